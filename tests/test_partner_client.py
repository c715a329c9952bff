"""``openncii.partner.FeedClient`` against the real server application.

The server is the real FastAPI app on this test's database (SQLite, and PostgreSQL when
OPENNCII_TEST_DATABASE_URL is set) behind ``fastapi.testclient.TestClient``. That one is an
``httpx2.Client`` here (starlette's), not an ``httpx.Client``, so the client under test gets a
real ``httpx.Client`` whose ``MockTransport`` forwards each request to the app, after failing
as told where a test injects faults.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from case_helpers import (
    CASES,
    STATUS,
    WITHDRAW,
    case_body,
    md5_item,
    pdq_item,
    photo_item,
    vpdq_item,
)
from openncii.errors import (
    FeedAuthError,
    FeedProtocolError,
    FeedRejectedError,
    FeedUnavailableError,
    PartnerStoreError,
)
from openncii.feed import purge_withdrawn
from openncii.partner import (
    DEFAULT_PAGE_SIZE,
    FeedbackItem,
    FeedClient,
    PartnerStore,
    RetryPolicy,
    hash_key,
    parse_page,
    report_outcomes,
    signal_type_of,
)
from openncii.signals.registry import keys
from openncii.testing import FakeClock
from partner_helpers import FeedReader, new_partner

ApiClient = Callable[..., Any]


class StopSyncError(Exception):
    """Raised from a progress callback: the sync stops as if the process were interrupted."""


BASE = "http://testserver"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[PartnerStore]:
    with PartnerStore.open(tmp_path / "partner.sqlite3") as opened:
        yield opened


def open_case(http: Any, *hashes: dict[str, Any]) -> dict[str, Any]:
    response = http.post(CASES, json=case_body(*hashes))
    assert response.status_code == 201, response.text
    return {**response.json(), "hashes": hashes}


def withdraw(http: Any, case: dict[str, Any]) -> None:
    response = http.post(WITHDRAW, json={"case_number": case["case_number"], "pin": case["pin"]})
    assert response.status_code == 200, response.text


def local_active(store: PartnerStore) -> set[tuple[str, str]]:
    return {
        (row.signal_type, row.key or "")
        for signal_type in ("pdq", "md5", "vpdq")
        for row in store.active(signal_type)
    }


def server_active(http: Any, key: str) -> set[tuple[str, str]]:
    """The server's active set, read with the raw-HTTP reader of the partner-API tests."""
    reader = FeedReader(http, key, page_size=1000)
    reader.fetch()
    wire = {"ImagePDQ": "pdq", "VideoMD5": "md5", "VideoPDQ": "vpdq"}
    return {(wire[t], hash_key(wire[t], v)) for t, v in reader.active()}


def test_a_photos_variants_are_synced_with_their_kinds_and_withdrawn_together(
    api_client: ApiClient, db_sessions: Any, store: PartnerStore
) -> None:
    import sqlite3

    http = api_client()
    key = new_partner(db_sessions, "Acme")
    photo = photo_item(("full", "square", "square", "strip", "trim"))
    case = open_case(http, photo, md5_item())
    client = FeedClient(BASE, key, client=_forwarding(http), page_size=2)
    assert client.sync(store).reason == "first sync"
    stored = {
        (row.signal_type, row.key)
        for signal_type in keys()
        for row in store.active(signal_type)
        if signal_type != "md5"
    }
    assert stored == {
        (("pdq" if v["kind"] == "full" else f"pdq_{v['kind']}"), v["pdq"])
        for v in photo["variants"]
    }
    assert store.counts() == {
        **dict.fromkeys(keys(), 0),
        "pdq": 1,
        "md5": 1,
        "pdq_square": 2,
        "pdq_strip": 1,
        "pdq_trim": 1,
    }
    assert store.sync_state().variants

    # A store synced before the client asked for variants is resynced in full, once.
    with sqlite3.connect(store.path) as raw:
        raw.execute("UPDATE meta SET value = NULL WHERE name = 'variants'")
    again = client.sync(store)
    assert again.full_resync and again.reason == "variants"
    assert store.counts()["pdq_square"] == 2
    assert client.sync(store).reason is None

    withdraw(http, case)
    client.sync(store)
    assert store.counts() == dict.fromkeys(keys(), 0)


def test_full_sync_then_incremental_with_withdrawals(
    api_client: ApiClient, db_sessions: Any, store: PartnerStore
) -> None:
    http = api_client()
    key = new_partner(db_sessions, "Acme")
    cases = [open_case(http, pdq_item(), md5_item()) for _ in range(5)]
    video = open_case(http, vpdq_item(frames=3))
    client = FeedClient(BASE, key, client=_forwarding(http), page_size=3)

    result = client.sync(store)
    assert result.full_resync and result.reason == "first sync"
    assert result.pages == 4  # 11 records in pages of 3
    assert result.records == 11 and result.counts.added == 11
    assert store.counts() == {**dict.fromkeys(keys(), 0), "pdq": 5, "md5": 5, "vpdq": 1}
    assert local_active(store) == server_active(http, key)
    (stored_video,) = store.active("vpdq")
    assert stored_video.value is not None and stored_video.value.count("\n") == 2
    pdq_row = store.get("pdq", cases[0]["hashes"][0]["value"])
    assert pdq_row is not None and pdq_row.active
    assert list(pdq_row.case_refs.values()) == ["Active"]
    assert cases[0]["case_number"] not in pdq_row.case_refs  # opaque references only
    state = store.sync_state()
    assert state.page_token is None and state.start_timestamp == result.checkpoint > 0

    # Nothing changed: one empty page.
    again = client.sync(store)
    assert not again.full_resync and again.records == 0 and again.pages == 1
    seq = store.change_seq

    # New cases and withdrawals are picked up, and only those.
    new = open_case(http, pdq_item())
    withdraw(http, cases[0])
    withdraw(http, video)
    later = client.sync(store)
    assert not later.full_resync
    assert later.records == 4  # the new PDQ, the two hashes of case 0, the video
    assert (later.counts.added, later.counts.updated, later.counts.removed) == (1, 0, 3)
    assert store.get("pdq", cases[0]["hashes"][0]["value"]) is None
    assert store.counts() == {**dict.fromkeys(keys(), 0), "pdq": 5, "md5": 4, "vpdq": 0}
    assert local_active(store) == server_active(http, key)

    changes = store.changes_since(seq)
    assert [r.value for r in changes.upserted] == [new["hashes"][0]["value"]]
    assert len(changes.removed) == 3
    assert all(r.value is None and r.key is None and not r.active for r in changes.removed)
    assert changes.seq == store.change_seq
    assert store.changes_since(changes.seq).upserted == ()


def test_interrupted_sync_resumes_with_the_page_token(
    api_client: ApiClient, db_sessions: Any, store: PartnerStore
) -> None:
    http = api_client()
    key = new_partner(db_sessions, "Acme")
    for _ in range(4):
        open_case(http, *[pdq_item() for _ in range(5)])
    client = FeedClient(BASE, key, client=_forwarding(http), page_size=4)

    def stop_after_two(progress: Any) -> None:
        if progress.pages == 2:
            raise StopSyncError

    with pytest.raises(StopSyncError):
        client.sync(store, progress=stop_after_two)
    state = store.sync_state()
    assert state.page_token and state.resyncing and state.checkpoint_at is None
    assert store.counts()["pdq"] == 8  # both pages committed

    result = client.sync(store)
    assert result.full_resync and result.reason == "first sync" and result.resumed
    assert result.pages == 3 and result.records == 12  # only the rest
    assert local_active(store) == server_active(http, key)
    assert store.sync_state().page_token is None


def test_refused_page_token_restarts_the_fetch(
    api_client: ApiClient, db_sessions: Any, store: PartnerStore
) -> None:
    http = api_client()
    key = new_partner(db_sessions, "Acme")
    open_case(http, *[pdq_item() for _ in range(6)])
    client = FeedClient(BASE, key, client=_forwarding(http), page_size=4)

    def stop(progress: Any) -> None:
        raise StopSyncError

    with pytest.raises(StopSyncError):
        client.sync(store, progress=stop)
    # Simulate an expired token (as one saved more than an hour ago) by altering it.
    token = store.sync_state().page_token
    assert token
    with store._write() as db:
        store._set_meta(db, {"page_token": token[:-2] + ("AA" if token[-2:] != "AA" else "BB")})
    result = client.sync(store)
    assert result.restarts == 1
    assert local_active(store) == server_active(http, key)


def test_stale_checkpoint_triggers_a_full_resync(
    api_client: ApiClient, db_sessions: Any, tmp_path: Path, clock: FakeClock
) -> None:
    """A withdrawal the server purged (30 days) is never sent again: only a full resync, which
    removes what the server no longer sends, gets rid of it."""
    http = api_client(clock=clock)
    key = new_partner(db_sessions, "Acme")
    kept = open_case(http, pdq_item())
    gone = open_case(http, pdq_item())
    stores = {}
    for name in ("stale", "lenient"):
        stores[name] = PartnerStore.open(tmp_path / f"{name}.sqlite3")
        FeedClient(BASE, key, client=_forwarding(http), clock=clock).sync(stores[name])
        assert stores[name].counts()["pdq"] == 2
    withdraw(http, gone)
    clock.advance(days=31)
    # The server's retention purge (it runs it by itself at most hourly, after a FetchHashes).
    with db_sessions() as session:
        assert purge_withdrawn(session, clock.now, timedelta(days=30)) == 1
    assert {r["hashValue"] for r in FeedReader(http, key).fetch()} == {kept["hashes"][0]["value"]}

    stale = FeedClient(BASE, key, client=_forwarding(http), clock=clock).sync(stores["stale"])
    assert stale.full_resync and stale.reason == "stale checkpoint"
    assert stale.counts.removed == 1 and stale.counts.unchanged == 1
    assert [r.value for r in stores["stale"].active("pdq")] == [kept["hashes"][0]["value"]]

    # Without the staleness rule, the purged withdrawal would stay in the store for ever.
    lenient = FeedClient(BASE, key, client=_forwarding(http), clock=clock)
    result = lenient.sync(stores["lenient"], max_checkpoint_age=timedelta(days=3650))
    assert not result.full_resync
    assert stores["lenient"].counts()["pdq"] == 2
    for opened in stores.values():
        opened.close()


def test_another_server_means_a_full_resync(
    api_client: ApiClient, db_sessions: Any, store: PartnerStore
) -> None:
    http = api_client()
    key = new_partner(db_sessions, "Acme")
    open_case(http, pdq_item())
    FeedClient(BASE, key, client=_forwarding(http)).sync(store)
    result = FeedClient("http://testserver/v1/", key, client=_forwarding(http)).sync(store)
    assert not result.full_resync  # the same server, spelled as StopNCII's base URL
    other = FeedClient("http://other.example", key, client=_forwarding(http)).sync(store)
    assert other.full_resync and other.reason == "server changed"
    assert store.counts()["pdq"] == 1


def _forwarding(
    http: Any, failures: list[Any] | None = None, calls: list[str] | None = None
) -> httpx.Client:
    """An httpx.Client whose requests go to the real app after the given failures: each item is
    a status code (answered without reaching the app), a (status, headers) pair, or an
    exception instance to raise."""
    pending = list(failures or [])

    def handle(request: httpx.Request) -> httpx.Response:
        if calls is not None:
            calls.append(request.url.path)
        if pending:
            failure = pending.pop(0)
            if isinstance(failure, Exception):
                raise failure
            status, headers = failure if isinstance(failure, tuple) else (failure, {})
            return httpx.Response(status, headers=headers, json={"detail": "injected"})
        url = str(request.url.copy_with(scheme="http", host="testserver", port=None))
        real = http.request(
            request.method, url, headers=dict(request.headers), content=request.content
        )
        return httpx.Response(real.status_code, headers=dict(real.headers), content=real.content)

    return httpx.Client(transport=httpx.MockTransport(handle))


def test_retries_with_backoff_then_succeeds(
    api_client: ApiClient, db_sessions: Any, store: PartnerStore
) -> None:
    http = api_client()
    key = new_partner(db_sessions, "Acme")
    open_case(http, pdq_item(), md5_item())
    sleeps: list[float] = []
    failures = [
        503,
        httpx.ConnectError("refused"),
        (429, {"Retry-After": "7"}),
        502,
        httpx.ReadTimeout("slow"),
    ]
    client = FeedClient(
        BASE,
        key,
        client=_forwarding(http, failures),
        page_size=1,
        sleep=sleeps.append,
        retry=RetryPolicy(attempts=6, base=0.5, cap=30.0),
    )
    result = client.sync(store)
    assert result.pages == 2 and store.counts()["pdq"] == 1
    assert len(sleeps) == 5
    assert sleeps[2] == 7.0  # Retry-After honoured
    # Full jitter: each wait is at most base * 2**(try - 1) for that request's tries.
    assert 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0 and 0 <= sleeps[3] <= 4.0
    assert 0 <= sleeps[4] <= 8.0


def test_retries_are_bounded(api_client: ApiClient, db_sessions: Any, store: PartnerStore) -> None:
    http = api_client()
    key = new_partner(db_sessions, "Acme")
    open_case(http, pdq_item())
    sleeps: list[float] = []
    calls: list[str] = []
    client = FeedClient(
        BASE,
        key,
        client=_forwarding(http, [500] * 10, calls),
        sleep=sleeps.append,
        retry=RetryPolicy(attempts=4, base=1.0, cap=2.0),
    )
    with pytest.raises(FeedUnavailableError) as caught:
        client.sync(store)
    assert caught.value.status == 500
    assert len(calls) == 4 and len(sleeps) == 3 and max(sleeps) <= 2.0
    assert store.counts()["pdq"] == 0 and store.change_seq == 0
    # A later run resumes normally.
    assert FeedClient(BASE, key, client=_forwarding(http)).sync(store).counts.added == 1


def test_bad_key_is_an_auth_error_without_retries(
    api_client: ApiClient, store: PartnerStore
) -> None:
    http = api_client()
    sleeps: list[float] = []
    client = FeedClient(BASE, "onp_not-a-real-key", client=_forwarding(http), sleep=sleeps.append)
    with pytest.raises(FeedAuthError):
        client.sync(store)
    with pytest.raises(FeedAuthError):
        client.submit_feedback([FeedbackItem("0" * 32, "Blocked")])
    assert sleeps == []
    assert "onp_not-a-real-key" not in repr(client)


def test_submit_feedback_reaches_the_server(api_client: ApiClient, db_sessions: Any) -> None:
    http = api_client()
    key = new_partner(db_sessions, "Acme")
    other = new_partner(db_sessions, "Zeta")
    case = open_case(http, pdq_item())
    value = case["hashes"][0]["value"]
    client = FeedClient(BASE, key, client=_forwarding(http))
    answer = client.submit_feedback(
        [FeedbackItem(value, "Blocked", ("nudity",)), FeedbackItem("f" * 32, "NotBlocked")]
    )
    assert answer.count == 1 and answer.not_found == (1,)
    (record,) = FeedReader(http, other).fetch()
    assert record["CSPFeedbacks"] == [
        {"feedbackValue": "Blocked", "tags": ["nudity"], "source": "Acme"}
    ]
    with pytest.raises(ValueError, match="feedback is one of"):
        FeedbackItem(value, "Maybe")


def test_report_outcomes_sends_batches_and_records_each_outcome(
    api_client: ApiClient, db_sessions: Any, store: PartnerStore, clock: FakeClock
) -> None:
    http = api_client(
        max_hashes_per_case=DEFAULT_PAGE_SIZE + 10, max_files_per_case=DEFAULT_PAGE_SIZE + 10
    )
    key = new_partner(db_sessions, "Acme")
    case = open_case(http, *(md5_item() for _ in range(DEFAULT_PAGE_SIZE + 1)), pdq_item())
    bank = {h["value"]: h["type"] for h in case["hashes"]}
    unknown = {"f" * 32: "md5", "e" * 64: None}
    calls: list[str] = []
    client = FeedClient(BASE, key, client=_forwarding(http, calls=calls))
    client.sync(store)
    pdq = next(v for v, t in bank.items() if t == "pdq")
    assert signal_type_of(store, pdq) == "pdq"
    assert signal_type_of(store, "e" * 64) is None
    assert signal_type_of(store, "f" * 32) == "md5"
    calls.clear()

    hashes = {**bank, **unknown}
    report = report_outcomes(client, store, hashes, "Blocked", ("nudity",), clock=clock)

    assert calls == ["/v1/SubmitFeedback", "/v1/SubmitFeedback"]  # 1003 hashes: 1000 + 3
    assert report.sent == tuple(sorted(hashes))
    assert set(report.not_found) == set(unknown)
    outcomes = {o.hash_value: o for o in store.outcomes()}
    assert len(outcomes) == len(bank) + len(unknown)
    assert {v for v, o in outcomes.items() if not o.recorded} == set(unknown)
    assert all(o.feedback == "Blocked" and o.tags == ("nudity",) for o in outcomes.values())
    assert outcomes[pdq].signal_type == "pdq" and outcomes["e" * 64].signal_type is None
    assert {o.sent_at for o in outcomes.values()} == {clock()}
    status = http.post(STATUS, json={"case_number": case["case_number"], "pin": case["pin"]})
    seen = [[(o["partner"], o["outcome"]) for o in h["outcomes"]] for h in status.json()["hashes"]]
    assert seen == [[("Acme", "Blocked")]] * len(bank)


def test_a_refused_request_is_not_retried(api_client: ApiClient, db_sessions: Any) -> None:
    http = api_client()
    key = new_partner(db_sessions, "Acme")
    sleeps: list[float] = []
    client = FeedClient(BASE, key, client=_forwarding(http), sleep=sleeps.append)
    with pytest.raises(FeedRejectedError) as caught:
        client.fetch_page(start_timestamp=2**52)  # later than any checkpoint: 400
    assert caught.value.status == 400
    moved = FeedClient(BASE, key, client=_forwarding(http, [(301, {"Location": "https://x/"})]))
    with pytest.raises(FeedRejectedError, match="redirect"):
        moved.fetch_page()
    assert sleeps == []


def test_iter_pages_fetches_everything_without_a_store(
    api_client: ApiClient, db_sessions: Any
) -> None:
    http = api_client()
    key = new_partner(db_sessions, "Acme")
    for _ in range(3):
        open_case(http, pdq_item(), md5_item())
    pages = list(FeedClient(BASE, key, client=_forwarding(http), page_size=4).iter_pages())
    assert [len(p.records) for p in pages] == [4, 2]
    assert [p.has_more for p in pages] == [True, False]
    assert pages[-1].next_set_timestamp > 0


# --------------------------------------------------------------------------------------------------
# Malformed answers: FeedProtocolError, never another exception, nothing stored.
# --------------------------------------------------------------------------------------------------

_GOOD_RECORD: dict[str, Any] = {
    "lastModtimestamp": 1_700_000_000,
    "signalType": "ImagePDQ",
    "hashValue": "a" * 64,
    "hashStatus": "Active",
    "caseNumbers": {"ref-1": "Active"},
    "CSPFeedbacks": [],
}
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)


def _page(records: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "count": len(records),
        "nextPageToken": None,
        "nextSetTimestamp": 1_700_000_001,
        "hasMoreRecords": False,
        "hashRecords": records,
        **extra,
    }


@st.composite
def _broken_pages(draw: st.DrawFn) -> bytes:
    """A valid page with one field of the page or of a record replaced by arbitrary JSON (or
    removed), or arbitrary bytes."""
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return draw(st.binary(max_size=200))
    page = _page([dict(_GOOD_RECORD), dict(_GOOD_RECORD, hashValue="b" * 64)])
    target: dict[str, Any] = page if choice == 1 else page["hashRecords"][draw(st.integers(0, 1))]
    name = draw(st.sampled_from(sorted(target)))
    if draw(st.booleans()):
        del target[name]
    else:
        target[name] = draw(_json)
    return json.dumps(page).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_broken_pages())
def test_parse_page_never_crashes(body: bytes) -> None:
    try:
        page = parse_page(body)
    except FeedProtocolError:
        return
    assert page.count == len(page.records) + page.skipped


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=_broken_pages())
def test_a_malformed_page_stores_nothing(
    tmp_path_factory: pytest.TempPathFactory, body: bytes
) -> None:
    path = tmp_path_factory.mktemp("malformed") / "store.sqlite3"
    good = json.dumps(_page([dict(_GOOD_RECORD, hashValue="c" * 64)])).encode()
    bodies = [good, body]

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies.pop(0) if len(bodies) > 1 else bodies[0])

    with PartnerStore.open(path) as local:
        client = FeedClient(BASE, "key", client=httpx.Client(transport=httpx.MockTransport(handle)))
        client.sync(local)
        before = (local.sync_state(), local.change_seq, local_active(local))
        try:
            client.sync(local)
        except FeedProtocolError:
            assert (local.sync_state().start_timestamp, local.change_seq) == (
                before[0].start_timestamp,
                before[1],
            )
            assert local_active(local) == before[2]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"hashStatus": "Gone"}, "hashStatus"),
        ({"hashValue": "xyz"}, "hashValue"),
        ({"hashValue": "a" * 63}, "hashValue"),
        ({"signalType": "VideoPDQ", "hashValue": "not,a,signature"}, "vPDQ"),
        ({"caseNumbers": ["ref"]}, "caseNumbers"),
        ({"lastModtimestamp": "yesterday"}, "lastModtimestamp"),
        ({"CSPFeedbacks": [{"tags": []}]}, "feedbackValue"),
    ],
)
def test_protocol_errors_name_the_field_not_the_value(record: dict[str, Any], message: str) -> None:
    with pytest.raises(FeedProtocolError, match=message) as caught:
        parse_page(json.dumps(_page([dict(_GOOD_RECORD, **record)])).encode())
    assert "a" * 32 not in str(caught.value)


def test_unknown_signal_types_are_skipped() -> None:
    page = parse_page(
        json.dumps(_page([_GOOD_RECORD, dict(_GOOD_RECORD, signalType="VideoTMK")])).encode()
    )
    assert len(page.records) == 1 and page.skipped == 1 and page.count == 2


def test_one_sync_at_a_time_per_store(
    api_client: ApiClient, db_sessions: Any, store: PartnerStore
) -> None:
    http = api_client()
    key = new_partner(db_sessions, "Acme")
    open_case(http, pdq_item())
    client = FeedClient(BASE, key, client=_forwarding(http))
    other = PartnerStore.open(store.path)  # as another process would
    try:
        with other.sync_lock(), pytest.raises(PartnerStoreError, match="Another sync"):
            client.sync(store)
        assert store.counts()["pdq"] == 0
        client.sync(store)  # the lock is released
        assert store.counts()["pdq"] == 1
    finally:
        other.close()


def test_next_page_is_fetched_while_a_page_is_stored_and_dropped_on_interrupt(
    api_client: ApiClient, db_sessions: Any, store: PartnerStore
) -> None:
    """The sync asks for page N+1 before it stores page N; an interrupted sync does not wait for
    that request (here held back by the server side) and the next run loses nothing."""
    import threading
    import time

    http = api_client()
    key = new_partner(db_sessions, "Acme")
    for _ in range(3):
        open_case(http, *[pdq_item() for _ in range(4)])
    release = threading.Event()
    calls: list[str] = []
    forward = _forwarding(http, calls=calls)

    def held_back(request: httpx.Request) -> httpx.Response:
        if len(calls) >= 1:  # every page after the first waits until released
            release.wait(timeout=120)
        return forward._transport.handle_request(request)

    client = FeedClient(
        BASE, key, client=httpx.Client(transport=httpx.MockTransport(held_back)), page_size=4
    )

    def stop_after_one(progress: Any) -> None:
        raise StopSyncError

    started = time.monotonic()
    with pytest.raises(StopSyncError):
        client.sync(store, progress=stop_after_one)
    assert time.monotonic() - started < 60  # did not wait for the held-back request (120 s)
    release.set()
    # The dropped request ends before the test goes on (and long before this app shuts down).
    for thread in threading.enumerate():
        if thread.name == "openncii-fetch":
            thread.join(timeout=120)
    assert store.counts()["pdq"] == 4  # the first page, committed with its checkpoint
    result = FeedClient(BASE, key, client=_forwarding(http), page_size=4).sync(store)
    assert result.resumed and result.records == 8
    assert local_active(store) == server_active(http, key)
