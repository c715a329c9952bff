"""The matcher service a platform runs beside its upload path: ``openncii matcher serve``.

- ``POST /match`` with an uploaded image or video (``multipart/form-data``, field ``file``) or
  with hashes (JSON: ``{"pdq": [...], "md5": [...], "vpdq": [...], "variants": [...]}``)
  answers the matches: the bank hash, its signal type (for a photo, its kind), the distance
  and the opaque case references. An uploaded image is matched robustly: the hashes
  ``openncii.query_file`` computes (dihedral variants, squares, strips, trims), each pair of
  kinds at its threshold (``openncii.signals.variants.pair_threshold``).
- ``GET /metrics``: Prometheus metrics (requests, matches, latency, bank size, refreshes).
- ``GET /healthz``: the bank's size and the age of the store's last completed sync; 200 once
  the bank is loaded and that sync is at most ``max_sync_age_seconds`` old, else 503.

With ``OPENNCII_MATCHER_TOKEN`` set, ``POST /match`` needs ``Authorization: Bearer <token>``
(the scheme in any case, as the partner API): its answers hold bank hashes and case
references. ``openncii matcher serve`` refuses to listen beyond the loopback address without
one.

The bank is the partner's local store (kept current by ``openncii partner sync``); a background
thread applies its changes every ``refresh_seconds`` while requests are answered.

Uploaded media is written to a private temporary file only for as long as hashing takes.
At most ``max_concurrent_hashes`` uploads are hashed at once (each may take ~300 MB and a core,
see :mod:`openncii.partner.admission`); an upload that waits longer than
``hash_wait_seconds`` for a slot gets 503 with ``Retry-After``. Hashes are never logged.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from openncii import __version__
from openncii.errors import InvalidHashError, OpenNCIIError
from openncii.hashing import FileHashes, hash_file
from openncii.partner.admission import (
    HashSlots,
    OverloadedError,
    default_hash_slots,
    release_free_memory,
)
from openncii.partner.matcher import BankSource, Match, Matcher, PdqQuery
from openncii.serving.errors import error_response, install_error_handlers
from openncii.serving.headers import SecurityHeadersMiddleware
from openncii.serving.limits import BodyLimitMiddleware, BodyTooLargeError, Scope
from openncii.settings import MatcherSettings
from openncii.signals.variants import Kind, PdqVariant
from openncii.signals.vpdq import VpdqFeature, parse_vpdq_text

__all__ = ["create_matcher_app"]

_log = logging.getLogger("openncii.matcher")

_CHUNK: Final = 1 << 20
#: A hex hash field: long enough for surrounding spaces (the signal type's own validation
#: strips them and says what is wrong), as the partner API accepts.
_Hex = Annotated[str, Field(max_length=128)]


class _VpdqFrameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frame: int = Field(default=0, ge=0)
    quality: int = Field(ge=0, le=100)
    pdq: _Hex
    timestamp: float = Field(default=0.0, ge=0)


class _PdqIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hash: _Hex
    dihedral: list[_Hex] = Field(default_factory=list, max_length=8)


class _VariantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pdq: str = Field(min_length=64, max_length=64)
    kind: Kind
    quality: int = Field(default=100, ge=0, le=100)


class MatchRequest(BaseModel):
    """Hashes to match. PDQ entries are hex strings or ``{"hash", "dihedral": [8 hex]}`` (a
    whole picture: compared with the bank's whole-picture hashes); vPDQ entries are the
    reference text (``frame,quality,hash,timestamp`` lines) or a list of frames as ``openncii
    hash --json`` prints them; ``variants`` entries are pictures, each the list of its query
    hashes ``{"pdq", "kind", "quality"}`` (``openncii.query_file``, ``openncii hash --variants
    query``), matched by the pair rule of their kinds."""

    model_config = ConfigDict(extra="forbid")

    pdq: list[str | _PdqIn] = Field(default_factory=list, max_length=10_000)
    variants: list[list[_VariantIn]] = Field(default_factory=list, max_length=100)
    md5: list[_Hex] = Field(default_factory=list, max_length=10_000)
    vpdq: list[str | list[_VpdqFrameIn]] = Field(default_factory=list, max_length=100)
    threshold: int | None = Field(default=None, ge=0, le=64)


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "openncii_matcher_requests",
            "Match requests answered, by kind of input and outcome.",
            ["input", "outcome"],
            registry=self.registry,
        )
        self.matches = Counter(
            "openncii_matcher_matches",
            "Matches found, by signal type.",
            ["signal_type"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "openncii_matcher_request_seconds",
            "Time to answer a match request, by kind of input.",
            ["input"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.bank = Gauge(
            "openncii_matcher_bank_hashes",
            "Active hashes in the matcher's bank, by signal type.",
            ["signal_type"],
            registry=self.registry,
        )
        self.refreshes = Counter(
            "openncii_matcher_refreshes",
            "Bank refreshes from the store, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.hashing = Gauge(
            "openncii_matcher_hashing_uploads",
            "Uploads being hashed now.",
            registry=self.registry,
        )
        self.hash_slots = Gauge(
            "openncii_matcher_hash_slots",
            "Uploads the matcher hashes at once at most.",
            registry=self.registry,
        )
        self.last_refresh = Gauge(
            "openncii_matcher_last_refresh_timestamp_seconds",
            "When the bank was last refreshed successfully (Unix time).",
            registry=self.registry,
        )


class _Refresher:
    """Runs :meth:`Matcher.refresh` every ``interval`` seconds on a daemon thread."""

    def __init__(self, matcher: Matcher, metrics: _Metrics, interval: float) -> None:
        self._matcher = matcher
        self._metrics = metrics
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="openncii-matcher-refresh")
        self._thread.daemon = True

    def refresh_once(self) -> None:
        try:
            self._matcher.refresh()
        except Exception:
            self._metrics.refreshes.labels("error").inc()
            _log.exception("bank refresh failed; answering from the previous bank")
            return
        self._metrics.refreshes.labels("ok").inc()
        self._metrics.last_refresh.set(time.time())
        for signal, count in self._matcher.counts().items():
            self._metrics.bank.labels(signal).set(count)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.refresh_once()


def _is_upload(content_type: str) -> bool:
    return content_type.startswith("multipart/form-data")


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return bytes(value).decode("latin-1")
    return ""


def _bearer(authorization: str) -> bytes | None:
    """The credentials of ``Authorization: Bearer <token>`` (scheme in any case, spaces around
    the token ignored), else ``None``."""
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip().encode("utf-8")


def create_matcher_app(
    source: BankSource,
    settings: MatcherSettings | None = None,
    *,
    on_close: Callable[[], None] | None = None,
    last_sync: Callable[[], datetime | None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """The matcher service over ``source`` (normally an open partner store).

    The bank is loaded before the app answers its first request; ``on_close`` runs at shutdown
    (to close the store, say). ``last_sync`` tells when the store's last sync completed (the
    store's checkpoint; ``None``: never): ``/healthz`` is unhealthy when it is older than
    ``max_sync_age_seconds`` by ``clock``. Without ``last_sync``, the sync age is not checked.
    """
    config = settings or MatcherSettings()
    matcher = Matcher(source, threshold=config.threshold)
    metrics = _Metrics()
    refresher = _Refresher(matcher, metrics, config.refresh_seconds)
    slots = HashSlots(
        config.max_concurrent_hashes or default_hash_slots(), config.hash_wait_seconds
    )
    metrics.hash_slots.set(slots.slots)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        refresher.refresh_once()
        refresher.start()
        try:
            yield
        finally:
            refresher.stop()
            if on_close is not None:
                on_close()

    app = FastAPI(
        title="OpenNCII matcher",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)

    def body_limit(scope: Scope) -> int:
        return (
            config.max_upload_bytes if _is_upload(_content_type(scope)) else config.max_json_bytes
        )

    def refused(scope: Scope) -> None:
        if scope.get("path") == "/match":
            kind = "file" if _is_upload(_content_type(scope)) else "hashes"
            metrics.requests.labels(kind, "error").inc()

    app.add_middleware(BodyLimitMiddleware, max_bytes=body_limit, on_refused=refused)
    app.add_middleware(SecurityHeadersMiddleware)  # last added, runs first: wraps the 413 too
    app.state.matcher = matcher
    app.state.refresher = refresher
    app.state.hash_slots = slots

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        counts = matcher.counts()
        body: dict[str, Any] = {
            "status": "ok",
            "position": matcher.position,
            "bank": counts,
            "bank_size": sum(counts.values()),
        }
        if last_sync is not None:
            synced = last_sync()
            age = None if synced is None else max(0.0, (clock() - synced).total_seconds())
            body |= {
                "last_sync": None if synced is None else synced.isoformat(),
                "last_sync_age_seconds": None if age is None else round(age, 1),
                "max_sync_age_seconds": config.max_sync_age_seconds,
            }
            if age is None:
                body["status"] = "never_synced"
            elif age > config.max_sync_age_seconds:
                body["status"] = "sync_too_old"
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    expected = None if config.token is None else config.token.get_secret_value().encode()

    @app.post("/match")
    async def match(request: Request) -> Response:
        if expected is not None:
            given = _bearer(request.headers.get("authorization", ""))
            if given is None or not hmac.compare_digest(given, expected):
                metrics.requests.labels("unauthorised", "error").inc()
                return error_response(
                    401,
                    "A valid matcher token is required (Authorization: Bearer ...).",
                    "not_authenticated",
                    {"WWW-Authenticate": "Bearer"},
                )
        kind: Literal["file", "hashes"] = (
            "file" if _is_upload(request.headers.get("content-type", "")) else "hashes"
        )
        started = time.perf_counter()
        try:
            if kind == "file":
                answer = await _match_upload(request, matcher, config, slots, metrics)
            else:
                answer = await _match_json_body(request, matcher)
        except (OpenNCIIError, RequestValidationError):
            metrics.requests.labels(kind, "error").inc()
            raise
        finally:
            metrics.latency.labels(kind).observe(time.perf_counter() - started)
        if isinstance(answer, JSONResponse):  # a refusal
            outcome = "shed" if answer.status_code == 503 else "error"
            metrics.requests.labels(kind, outcome).inc()
            return answer
        matches, extra = answer
        metrics.requests.labels(kind, "ok").inc()
        for found in matches:
            metrics.matches.labels(found.signal).inc()
        return JSONResponse(
            {**extra, "matches": [{"query": m.query, **m.to_json()} for m in matches]}
        )

    return app


#: What a match handler gives back: the matches and extra answer fields, or a refusal.
_Answer = tuple[list[Match], dict[str, Any]] | JSONResponse


async def _match_json_body(request: Request, matcher: Matcher) -> _Answer:
    if not request.headers.get("content-type", "").startswith("application/json"):
        return error_response(
            415,
            "Send JSON (application/json) or a file (multipart/form-data).",
            "unsupported_media_type",
        )
    # The body limit (max_json_bytes) is enforced while it streams in.
    try:
        query = MatchRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    pdq = [
        PdqQuery(item) if isinstance(item, str) else PdqQuery(item.hash, tuple(item.dihedral))
        for item in query.pdq
    ]
    videos: list[list[VpdqFeature]] = []
    for position, entry in enumerate(query.vpdq):
        if isinstance(entry, str):
            try:
                videos.append(parse_vpdq_text(entry))
            except InvalidHashError as exc:
                raise InvalidHashError(f"vpdq[{position}]: {exc}") from None
        else:
            videos.append(
                [VpdqFeature(f.frame, f.quality, f.pdq.lower(), f.timestamp) for f in entry]
            )
    # Off the event loop: a search may wait for a refresh to finish applying a batch.
    matches = await run_in_threadpool(_match_all, matcher, pdq, query, videos)
    return matches, {}


def _match_all(
    matcher: Matcher, pdq: list[PdqQuery], query: MatchRequest, videos: list[list[VpdqFeature]]
) -> list[Match]:
    matches = matcher.match_pdq(pdq, query.threshold)
    matches += matcher.match_md5(query.md5)
    matches += matcher.match_vpdq(videos, query.threshold)
    pictures: list[list[PdqVariant]] = []
    for position, picture in enumerate(query.variants):
        try:
            pictures.append([PdqVariant(v.pdq, v.kind, v.quality) for v in picture])
        except InvalidHashError as exc:
            raise InvalidHashError(f"variants[{position}]: {exc}") from None
    matches += matcher.match_variants(pictures)
    return matches


async def _match_upload(
    request: Request,
    matcher: Matcher,
    config: MatcherSettings,
    slots: HashSlots,
    metrics: _Metrics,
) -> _Answer:
    # The body limit (max_upload_bytes) is enforced while it streams in.
    try:
        # Starlette spools file parts to a temporary file: a video is never whole in memory.
        form = await request.form(max_files=1, max_fields=10)
    except BodyTooLargeError:
        raise
    except Exception as exc:  # the multipart parser's errors differ between versions
        return error_response(
            400, f"The multipart body is not valid: {type(exc).__name__}.", "invalid_request"
        )
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return error_response(
                422, 'Send the media in a multipart part named "file".', "invalid_request"
            )
        directory = str(config.upload_dir) if config.upload_dir else None
        fd, name = tempfile.mkstemp(prefix="openncii-match-", dir=directory)
        path = Path(name)
        try:
            await run_in_threadpool(_copy_upload, upload, fd)
            try:
                # At most `slots` hashings at once: each may take ~300 MB and a core.
                async with slots.slot():
                    metrics.hashing.inc()
                    try:
                        hashes: FileHashes = await run_in_threadpool(_hash_upload, path)
                    finally:
                        metrics.hashing.dec()
            except OverloadedError as exc:
                return error_response(
                    503,
                    "The matcher is busy hashing other uploads; try again shortly.",
                    "unavailable",
                    {"Retry-After": str(exc.retry_after)},
                )
            matches = await run_in_threadpool(matcher.match_hashes, hashes)
        finally:
            path.unlink(missing_ok=True)
    finally:
        await form.close()
    return matches, {"media": hashes.media, "quality": hashes.quality}


def _hash_upload(path: Path) -> FileHashes:
    try:
        return hash_file(path, True, variants="query")
    finally:
        release_free_memory()


def _copy_upload(upload: UploadFile, fd: int) -> None:
    upload.file.seek(0)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(upload.file, out, _CHUNK)
