"""``FeedClient``: the partner's side of the StopNCII-compatible partner API.

It fetches the hash feed (``GET /v1/FetchHashes``) into a :class:`~openncii.partner.PartnerStore`
incrementally from the saved checkpoint, and reports outcomes (``POST /v1/SubmitFeedback``).

- **Never loses its place.** Each page's records and the new checkpoint are committed in one
  SQLite transaction, so a sync killed at any moment resumes from the last committed page (with
  its ``nextPageToken``) and ends in the same state as an uninterrupted one. A token the server no
  longer accepts (it expires after an hour) restarts the fetch from its start: records already
  stored are sent again, nothing is skipped.
- **Withdrawals.** ``Withdrawn`` / ``Deleted`` records remove the hash locally.
- **Robust matching.** It asks for the variant records of photos (``variants=1``: PDQ hashes
  of squares, strips and trims, each with its signal type, hence its kind) and stores them
  beside the whole-image ``ImagePDQ`` hashes.
- **Stale checkpoints.** The server keeps withdrawn hashes in the feed for 30 days only; a
  checkpoint older than that could miss withdrawals, so the client then resyncs in full: it
  fetches everything again and, once the fetch completes, removes every hash the server did not
  send (the old copy stays usable for matching until then). The same happens when the store was
  synced with another server.
- **Retries.** Network errors, 429 (``Retry-After`` honoured) and 5xx are retried with exponential
  backoff and full jitter, a bounded number of times; then
  :class:`~openncii.errors.FeedUnavailableError`. A refused key is
  :class:`~openncii.errors.FeedAuthError`; a malformed answer
  :class:`~openncii.errors.FeedProtocolError` (nothing of it is stored).
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx

from openncii.errors import (
    FeedAuthError,
    FeedRejectedError,
    FeedUnavailableError,
)
from openncii.partner._wire import (
    PARTNER_FEEDBACK_VALUES,
    FeedbackAnswer,
    FeedPage,
    parse_feedback_answer,
    parse_page,
)
from openncii.partner.store import PageCounts, PartnerStore

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_CHECKPOINT_AGE",
    "FeedClient",
    "FeedbackItem",
    "RetryPolicy",
    "SyncProgress",
    "SyncResult",
]

#: Records per page asked for (the server's maximum).
DEFAULT_PAGE_SIZE: Final = 1000
#: A checkpoint older than this triggers a full resync (the server's retention of withdrawals).
MAX_CHECKPOINT_AGE: Final = timedelta(days=30)
_API_PREFIX: Final = "/v1"
_FETCH: Final = "/FetchHashes"
_FEEDBACK: Final = "/SubmitFeedback"
_USER_AGENT: Final = "openncii-partner"

_log = logging.getLogger("openncii.partner")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How transient failures are retried: up to ``attempts`` tries in all, waiting a random
    time up to ``base * 2**n`` seconds (capped at ``cap``) before try ``n + 1``; a 429's
    ``Retry-After`` is waited instead when given (capped at ``max_retry_after``)."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 300.0


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    """One outcome to report: the hash as the feed sent it (hex, or a vPDQ signature or its
    SHA-256 hex), a value a platform may report (:data:`~openncii.partner.PARTNER_FEEDBACK_VALUES`)
    and tags."""

    hash_value: str
    feedback: str
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.feedback not in PARTNER_FEEDBACK_VALUES:
            raise ValueError(f"feedback is one of {', '.join(PARTNER_FEEDBACK_VALUES)}")


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """Reported after each committed page."""

    pages: int
    records: int
    counts: PageCounts
    full_resync: bool


@dataclass(slots=True)
class SyncResult:
    """What one :meth:`FeedClient.sync` did.

    ``records`` counts the records received (``skipped``: of signal types this client does not
    know), ``counts`` what they did to the store; ``full_resync`` says whether it was a full
    resync and ``reason`` why (``"first sync"``, ``"stale checkpoint"``, ``"server changed"``,
    ``"requested"``, ``"variants"``: the store was synced before the client asked for the
    robust-matching variant records); ``resumed`` whether it continued an interrupted fetch;
    ``restarts`` counts fetches restarted after a refused page token.
    """

    pages: int = 0
    records: int = 0
    skipped: int = 0
    counts: PageCounts = field(default_factory=PageCounts)
    full_resync: bool = False
    reason: str | None = None
    resumed: bool = False
    restarts: int = 0
    checkpoint: int = 0


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _api_base(base_url: str) -> str:
    """``https://host`` or ``https://host/v1`` (StopNCII's form) -> ``https://host/v1``."""
    base = base_url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ValueError("the server URL must start with http:// or https://")
    return base if base.endswith(_API_PREFIX) else base + _API_PREFIX


class FeedClient:
    """A partner API client. ``FeedClient(base_url, key, client=httpx.Client(...))``.

    ``base_url`` is the server (``https://host``; ``https://host/v1`` also works). ``key`` is the
    partner key, sent in ``Ocp-Apim-Subscription-Key`` and ``x-functions-key``. ``client`` is any
    ``httpx.Client`` (its own ``base_url`` is not used: requests go to absolute URLs); one is made
    and owned when omitted. ``sleep``, ``clock`` and ``rng`` are injectable for tests.
    """

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        client: httpx.Client | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = _utcnow,
        rng: random.Random | None = None,
    ) -> None:
        if not key or not key.strip():
            raise ValueError("a partner key is required")
        if not 1 <= page_size <= DEFAULT_PAGE_SIZE:
            raise ValueError(f"page_size is between 1 and {DEFAULT_PAGE_SIZE}")
        self.base_url = _api_base(base_url)
        self.page_size = page_size
        self.retry = retry or RetryPolicy()
        self._headers = {
            "Ocp-Apim-Subscription-Key": key.strip(),
            "x-functions-key": key.strip(),
            "User-Agent": _USER_AGENT,
        }
        self._owned = client is None
        self._http = client if client is not None else httpx.Client(timeout=timeout)
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()

    def __repr__(self) -> str:  # never the key
        return f"FeedClient({self.base_url!r}, page_size={self.page_size})"

    def close(self) -> None:
        """Close the HTTP client if this object made it."""
        if self._owned:
            self._http.close()

    def __enter__(self) -> FeedClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # HTTP ----------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, retried on network errors, 429 and 5xx; errors mapped to exceptions."""
        url = self.base_url + path
        policy = self.retry
        attempt = 0
        while True:
            attempt += 1
            wait: float | None = None
            try:
                response = self._http.request(method, url, headers=self._headers, **kwargs)
            except httpx.TransportError as exc:
                status: int | None = None
                problem = f"network error ({type(exc).__name__})"
            else:
                status = response.status_code
                if status < 300:
                    return response
                if status < 400:
                    raise FeedRejectedError(
                        f"The server answered a redirect ({status}); give the URL it redirects "
                        "to as the server.",
                        status=status,
                    )
                if status in (401, 403):
                    raise FeedAuthError(
                        f"The server refused the partner key ({status}): check "
                        "OPENNCII_PARTNER_KEY; a revoked key must be replaced by the helpline."
                    )
                if status != 429 and status < 500:
                    raise FeedRejectedError(
                        f"The server refused the request ({status}): {_detail(response)}",
                        status=status,
                    )
                problem = f"HTTP {status}"
                if status == 429:
                    wait = _retry_after(response, self._clock())
            if attempt >= policy.attempts:
                raise FeedUnavailableError(
                    f"The partner API at {self.base_url} is unavailable ({problem}) after "
                    f"{attempt} tries; run the command again later: it resumes where it stopped.",
                    status=status,
                )
            if wait is None:
                wait = self._rng.uniform(0, min(policy.cap, policy.base * 2 ** (attempt - 1)))
            else:
                wait = min(wait, policy.max_retry_after)
            _log.warning("partner API: %s; retrying in %.1f s", problem, wait)
            self._sleep(wait)

    # Feed ----------------------------------------------------------------------------------------

    def fetch_page(self, start_timestamp: int = 0, page_token: str | None = None) -> FeedPage:
        """One ``FetchHashes`` page, checked (:class:`FeedProtocolError` if malformed)."""
        params: dict[str, str | int] = {
            "startTimestamp": start_timestamp,
            "pageSize": self.page_size,
            # OpenNCII's own: also the variant records of photos (robust matching); a stock
            # StopNCII server ignores the parameter.
            "variants": 1,
        }
        if page_token:
            params["nextPageToken"] = page_token
        response = self._request("GET", _FETCH, params=params)
        return parse_page(response.content)

    def iter_pages(self, start_timestamp: int = 0) -> Iterator[FeedPage]:
        """Every page of one fetch from ``start_timestamp`` (0: the whole bank), without a
        store; the last page's ``next_set_timestamp`` is the checkpoint to start from next."""
        token: str | None = None
        while True:
            page = self.fetch_page(start_timestamp, token)
            yield page
            if not page.has_more:
                return
            token = page.next_page_token

    def sync(
        self,
        store: PartnerStore,
        *,
        full: bool = False,
        max_checkpoint_age: timedelta = MAX_CHECKPOINT_AGE,
        progress: Callable[[SyncProgress], None] | None = None,
    ) -> SyncResult:
        """Bring ``store`` up to date with the server; return what was done.

        Resumes an interrupted fetch from the store's checkpoint. A full resync happens on the
        first sync, when ``full``, when the checkpoint is older than ``max_checkpoint_age`` by
        ``clock``, or when the store was synced with another server. One sync at a time per
        store (:meth:`PartnerStore.sync_lock`; another one gets ``PartnerStoreError``).
        """
        with store.sync_lock():
            return self._sync(store, full, max_checkpoint_age, progress)

    def _sync(
        self,
        store: PartnerStore,
        full: bool,
        max_checkpoint_age: timedelta,
        progress: Callable[[SyncProgress], None] | None,
    ) -> SyncResult:
        result = SyncResult()
        state = store.sync_state()
        now = self._clock()
        reason: str | None = None
        if full:
            reason = "requested"
        elif state.server is not None and state.server != self.base_url:
            reason = "server changed"
        elif state.resyncing:
            reason = None  # a full resync was interrupted: it simply continues
        elif state.checkpoint_at is None:
            reason = "first sync"
        elif now - state.checkpoint_at > max_checkpoint_age:
            reason = "stale checkpoint"
        elif not state.variants:
            reason = "variants"  # synced before the feed carried photos' variant records
        if reason is not None:
            _log.info("partner sync: full resync (%s)", reason)
            state = store.begin_full_resync(self.base_url, reason)
        else:
            result.resumed = state.page_token is not None
        result.full_resync = state.resyncing
        result.reason = state.resync_reason if state.resyncing else None
        start, token = state.start_timestamp, state.page_token
        restarted = False
        ahead: Future[FeedPage] | None = None
        while True:
            try:
                page = ahead.result() if ahead is not None else self.fetch_page(start, token)
            except FeedRejectedError as exc:
                ahead = None
                if token is None or exc.status != 400 or restarted:
                    raise
                # The page token expired or is refused: start this fetch again (repeats only).
                _log.info("partner sync: page token refused; restarting the fetch")
                store.restart_fetch()
                token, restarted = None, True
                result.restarts += 1
                continue
            ahead = None
            if page.has_more and page.next_page_token:
                # Fetch the next page while this one is stored: the network and the server's
                # work overlap the SQLite inserts. Pages are still committed one by one, in
                # order, each with its checkpoint; if storing fails, the fetch is dropped.
                ahead = _fetch_ahead(self.fetch_page, start, page.next_page_token)
            counts = store.apply_page(
                page.records,
                next_page_token=page.next_page_token,
                next_start_timestamp=None if page.has_more else page.next_set_timestamp,
                now=self._clock(),
            )
            result.pages += 1
            result.records += page.count
            result.skipped += page.skipped
            result.counts += counts
            if progress is not None:
                progress(
                    SyncProgress(result.pages, result.records, result.counts, result.full_resync)
                )
            if not page.has_more:
                result.checkpoint = page.next_set_timestamp
                return result
            token = page.next_page_token

    # Feedback ------------------------------------------------------------------------------------

    def submit_feedback(self, items: Sequence[FeedbackItem]) -> FeedbackAnswer:
        """Report outcomes (at most 1000 per call); returns the count the server recorded and
        the positions of hashes it does not hold."""
        if not 1 <= len(items) <= DEFAULT_PAGE_SIZE:
            raise ValueError(f"between 1 and {DEFAULT_PAGE_SIZE} feedback items per call")
        body = {
            "count": len(items),
            "hashFeedbacks": [
                {"hashValue": i.hash_value, "feedbackValue": i.feedback, "tags": list(i.tags)}
                for i in items
            ],
        }
        response = self._request("POST", _FEEDBACK, json=body)
        return parse_feedback_answer(response.content)


def _fetch_ahead(
    fetch: Callable[[int, str | None], FeedPage], start: int, token: str
) -> Future[FeedPage]:
    """Fetch one page on a daemon thread while the caller stores the previous one.

    A daemon thread, not an executor: an interrupted sync (Ctrl-C, an error while storing)
    must not wait for a request that may be in its retry back-off; the page it brings is simply
    dropped (the store's checkpoint fetches it again next time).
    """
    future: Future[FeedPage] = Future()

    def run() -> None:
        try:
            future.set_result(fetch(start, token))
        except BaseException as exc:  # handed to the caller by future.result()
            future.set_exception(exc)

    threading.Thread(target=run, name="openncii-fetch", daemon=True).start()
    return future


def _retry_after(response: httpx.Response, now: datetime) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), if any."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _detail(response: httpx.Response) -> str:
    """The server's ``detail`` message (never the request), or a generic phrase."""
    try:
        data = response.json()
    except ValueError:
        return "no details"
    detail = data.get("detail") if isinstance(data, dict) else None
    return detail[:300] if isinstance(detail, str) else "no details"
