"""The partner API (/v1) over HTTP, on SQLite and PostgreSQL: paging, incremental fetches,
withdrawals, auth, page tokens, parameters, feedback, submissions and the retention purge."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

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
from openncii.db.models import Case, FeedCheckpoint, FeedRecordCache, HashRecord
from openncii.feed import MAX_LEAD_SECONDS, PageToken, encode_page_token, purge_withdrawn
from openncii.partners import revoke_partner
from openncii.testing import FakeClock
from partner_helpers import FEEDBACK, FETCH, SUBMIT, FeedReader, key_headers, new_partner

ApiClient = Callable[..., Any]


def _open_cases(client: Any, count: int, per_case: int = 2) -> list[dict[str, Any]]:
    made = []
    for _ in range(count):
        hashes = [pdq_item() if i % 2 == 0 else md5_item() for i in range(per_case)]
        response = client.post(CASES, json=case_body(*hashes))
        assert response.status_code == 201, response.text
        made.append({**response.json(), "hashes": hashes})
    return made


def _keys(cases: list[dict[str, Any]]) -> set[tuple[str, str]]:
    wire = {"pdq": "ImagePDQ", "md5": "VideoMD5"}
    return {(wire[h["type"]], h["value"]) for c in cases for h in c["hashes"]}


def test_full_fetch_in_small_pages_returns_every_record_once(
    api_client: ApiClient, db_sessions: Any
) -> None:
    client = api_client()
    key = new_partner(db_sessions, "Acme")
    cases = _open_cases(client, 7, per_case=3)
    reader = FeedReader(client, key, page_size=4)
    received = reader.fetch()
    assert len(received) == 21  # each record exactly once: 6 pages of 4 and one of 1
    assert set(reader.records) == _keys(cases)
    assert len(reader.checkpoints) == 6
    record = next(iter(reader.records.values()))
    assert set(record) == {
        "lastModtimestamp",
        "signalType",
        "hashValue",
        "hashStatus",
        "caseNumbers",
        "CSPFeedbacks",
    }
    assert record["hashStatus"] == "Active"
    assert record["CSPFeedbacks"] == []
    # Partners see an opaque per-case reference, never the person's case number.
    numbers = {c["case_number"].replace("-", "") for c in cases}
    refs = {ref for r in reader.records.values() for ref in r["caseNumbers"]}
    assert len(refs) == 7
    assert not refs & numbers
    assert not any(n in ref for ref in refs for n in numbers)
    assert set(record["caseNumbers"].values()) == {"Active"}
    # nextSetTimestamp never decreases and looks like "now" in Unix seconds.
    assert reader.checkpoints == sorted(reader.checkpoints)
    assert abs(reader.checkpoint - time.time()) < MAX_LEAD_SECONDS + 5


def test_incremental_fetch_gets_exactly_the_changes_including_withdrawals(
    api_client: ApiClient, db_sessions: Any
) -> None:
    client = api_client()
    key = new_partner(db_sessions, "Acme")
    first = _open_cases(client, 3)
    reader = FeedReader(client, key, page_size=2)
    reader.fetch()
    assert reader.fetch() == []  # nothing changed: nothing sent
    second = _open_cases(client, 2)
    changed = reader.fetch()
    assert {(r["signalType"], r["hashValue"]) for r in changed} == _keys(second)
    # Withdraw a case: its hashes come again, as Withdrawn, and nothing else.
    gone = first[0]
    response = client.post(WITHDRAW, json={"case_number": gone["case_number"], "pin": gone["pin"]})
    assert response.status_code == 200
    changed = reader.fetch()
    assert {(r["signalType"], r["hashValue"]) for r in changed} == _keys([gone])
    assert {r["hashStatus"] for r in changed} == {"Withdrawn"}
    assert all(set(r["caseNumbers"].values()) == {"Withdrawn"} for r in changed)
    assert reader.active() == _keys(first[1:] + second)
    assert reader.checkpoints == sorted(reader.checkpoints)


def test_shared_hash_stays_active_while_another_case_holds_it(
    api_client: ApiClient, db_sessions: Any
) -> None:
    client = api_client()
    key = new_partner(db_sessions, "Acme")
    shared = pdq_item()
    a = client.post(CASES, json=case_body(shared)).json()
    client.post(CASES, json=case_body(shared))
    reader = FeedReader(client, key)
    reader.fetch()
    client.post(WITHDRAW, json={"case_number": a["case_number"], "pin": a["pin"]})
    (record,) = reader.fetch()
    assert record["hashStatus"] == "Active"
    assert sorted(record["caseNumbers"].values()) == ["Active", "Withdrawn"]


def test_vpdq_records_use_their_own_signal_type(api_client: ApiClient, db_sessions: Any) -> None:
    client = api_client()
    key = new_partner(db_sessions, "Acme")
    client.post(CASES, json=case_body(vpdq_item(frames=2)))
    reader = FeedReader(client, key)
    (record,) = reader.fetch()
    assert record["signalType"] == "VideoPDQ"
    assert len(record["hashValue"].splitlines()) == 2  # the signature: one line per frame


# --------------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-functions-key": "onp_wrong"},
        {"Ocp-Apim-Subscription-Key": "onp_wrong"},
        {"Authorization": "Bearer onp_wrong"},
        {"Authorization": "Basic b25wOndyb25n"},
        {"x-functions-key": ""},
    ],
)
def test_missing_or_wrong_key_gets_401_json(
    api_client: ApiClient, db_sessions: Any, headers: dict[str, str]
) -> None:
    client = api_client()
    new_partner(db_sessions, "Acme")
    for method, path in (("GET", FETCH), ("POST", FEEDBACK), ("POST", SUBMIT)):
        response = client.request(method, path, headers=headers, json={"count": 0})
        assert response.status_code == 401, (method, path)
        assert response.headers["content-type"] == "application/json"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["detail"].startswith("A valid partner API key is required")
        assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "make_headers",
    [
        lambda k: {"x-functions-key": k},
        lambda k: {"Ocp-Apim-Subscription-Key": k},
        lambda k: {"Authorization": f"Bearer {k}"},
        lambda k: {"x-functions-key": k, "Ocp-Apim-Subscription-Key": "not-ours"},
        key_headers,
    ],
)
def test_key_is_accepted_in_any_header(
    api_client: ApiClient, db_sessions: Any, make_headers: Callable[[str], dict[str, str]]
) -> None:
    client = api_client()
    key = new_partner(db_sessions, "Acme")
    assert client.get(FETCH, headers=make_headers(key)).status_code == 200


def test_two_partners_keys_in_one_request_get_401(api_client: ApiClient, db_sessions: Any) -> None:
    client = api_client()
    a, b = new_partner(db_sessions, "A"), new_partner(db_sessions, "B")
    headers = {"x-functions-key": a, "Ocp-Apim-Subscription-Key": b}
    assert client.get(FETCH, headers=headers).status_code == 401


def test_revocation_takes_effect_on_the_next_request(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client = api_client()
    key = new_partner(db_sessions, "Acme")
    assert client.get(FETCH, headers=key_headers(key)).status_code == 200
    with db_sessions() as session:
        revoke_partner(session, "Acme", clock())
    assert client.get(FETCH, headers=key_headers(key)).status_code == 401


def test_revocation_stops_a_sync_at_its_next_page(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client = api_client()
    key = new_partner(db_sessions, "Acme")
    _open_cases(client, 3)
    params: dict[str, Any] = {"startTimestamp": 0, "pageSize": 2}
    first = client.get(FETCH, params=params, headers=key_headers(key)).json()
    params["nextPageToken"] = first["nextPageToken"]
    assert client.get(FETCH, params=params, headers=key_headers(key)).status_code == 200
    with db_sessions() as session:
        revoke_partner(session, "Acme", clock())
    for _ in range(2):
        response = client.get(FETCH, params=params, headers=key_headers(key))
        assert response.status_code == 401, response.text
        assert "hashRecords" not in response.json()
    # A bad parameter or token with a revoked key is a 401 too (the key is checked first).
    bad_token = {**params, "nextPageToken": "x" * len(params["nextPageToken"])}
    for bad in ({**params, "pageSize": "x"}, bad_token):
        assert client.get(FETCH, params=bad, headers=key_headers(key)).status_code == 401


# --------------------------------------------------------------------------------------------------
# Page tokens and parameters
# --------------------------------------------------------------------------------------------------


def _first_page(client: Any, key: str, **params: Any) -> dict[str, Any]:
    response = client.get(
        FETCH, params={"startTimestamp": 0, "pageSize": 1, **params}, headers=key_headers(key)
    )
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _bad_token(client: Any, key: str, token: str, start: int = 0) -> None:
    response = client.get(
        FETCH,
        params={"startTimestamp": start, "pageSize": 1, "nextPageToken": token},
        headers=key_headers(key),
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    assert "nextPageToken" in response.json()["detail"]


def test_forged_altered_or_foreign_tokens_get_400(api_client: ApiClient, db_sessions: Any) -> None:
    client = api_client()
    key, other = new_partner(db_sessions, "Acme"), new_partner(db_sessions, "Other")
    _open_cases(client, 2)
    token = _first_page(client, key)["nextPageToken"]
    assert token
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for bad in (flipped, token[:-1], token + "A", "x" * len(token), "not a token", "é" * 10):
        _bad_token(client, key, bad)
    _bad_token(client, other, token)  # issued to another partner
    _bad_token(client, key, token, start=5)  # issued for another startTimestamp
    # A token signed with another secret (e.g. another installation) is refused too.
    forged = encode_page_token(b"\x00" * 32, PageToken(1, 0, 0, 10**9, 0, 2**40))
    _bad_token(client, key, forged)


def test_expired_token_gets_400(api_client: ApiClient, db_sessions: Any, clock: FakeClock) -> None:
    client = api_client(clock=clock, feed_page_token_ttl_seconds=60)
    key = new_partner(db_sessions, "Acme")
    _open_cases(client, 2)
    token = _first_page(client, key)["nextPageToken"]
    clock.advance(seconds=59)
    response = client.get(
        FETCH,
        params={"startTimestamp": 0, "pageSize": 1, "nextPageToken": token},
        headers=key_headers(key),
    )
    assert response.status_code == 200
    clock.advance(seconds=2)
    _bad_token(client, key, token)
    # Also when the next page was computed ahead of the request (PostgreSQL prefetch).
    token = _first_page(client, key)["nextPageToken"]
    clock.advance(seconds=61)
    _bad_token(client, key, token)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": -3}, "pageSize"),
        ({"pageSize": "ten"}, "pageSize"),
        ({"pageSize": "1e3"}, "pageSize"),
        ({"startTimestamp": -1}, "startTimestamp"),
        ({"startTimestamp": "yesterday"}, "startTimestamp"),
        ({"startTimestamp": 2**63}, "startTimestamp"),
        ({"startTimestamp": int(time.time()) + 86400}, "future"),
    ],
)
def test_bad_parameters_get_400(
    api_client: ApiClient, db_sessions: Any, params: dict[str, Any], fragment: str
) -> None:
    client = api_client()
    key = new_partner(db_sessions, "Acme")
    response = client.get(FETCH, params=params, headers=key_headers(key))
    assert response.status_code == 400, response.text
    assert fragment in response.json()["detail"]


def test_page_size_defaults_to_800_and_is_clamped_to_1000(
    api_client: ApiClient, db_sessions: Any
) -> None:
    client = api_client(max_files_per_case=100)
    key = new_partner(db_sessions, "Acme")
    _open_cases(client, 11, per_case=100)  # 1100 records
    default = client.get(FETCH, headers=key_headers(key)).json()
    assert default["count"] == 800
    assert default["hasMoreRecords"] is True
    clamped = client.get(FETCH, params={"pageSize": 5000}, headers=key_headers(key)).json()
    assert clamped["count"] == 1000
    assert clamped["hasMoreRecords"] is True


def test_unknown_start_timestamp_is_rounded_down_to_an_issued_checkpoint(
    api_client: ApiClient, db_sessions: Any
) -> None:
    client = api_client()
    key = new_partner(db_sessions, "Acme")
    _open_cases(client, 1)
    reader = FeedReader(client, key)
    reader.fetch()
    later = _open_cases(client, 1)
    # A time between checkpoints (not one we issued) never skips anything.
    page = _first_page(client, key, startTimestamp=reader.checkpoint, pageSize=10)
    assert {(r["signalType"], r["hashValue"]) for r in page["hashRecords"]} == _keys(later)
    old = _first_page(client, key, startTimestamp=reader.checkpoint - 1, pageSize=10)
    assert old["count"] == 4  # before the first checkpoint: from the beginning


# --------------------------------------------------------------------------------------------------
# Feedback and submissions
# --------------------------------------------------------------------------------------------------


def test_feedback_shows_in_the_case_status_and_to_other_partners(
    api_client: ApiClient, db_sessions: Any
) -> None:
    client = api_client()
    acme, other = new_partner(db_sessions, "Acme"), new_partner(db_sessions, "Other")
    (case,) = _open_cases(client, 1)
    pdq, md5 = case["hashes"]
    watcher = FeedReader(client, other)
    watcher.fetch()
    body = {
        "count": 3,
        "hashFeedbacks": [
            {"hashValue": pdq["value"].upper(), "feedbackValue": "Blocked", "tags": ["nudity"]},
            {"hashValue": md5["value"], "feedbackValue": "PendingReview", "tags": []},
            {"hashValue": "ab" * 32, "feedbackValue": "Blocked", "tags": []},
        ],
    }
    response = client.post(FEEDBACK, json=body, headers=key_headers(acme))
    assert response.status_code == 200, response.text
    assert response.json() == {"count": 2, "notFound": [2]}
    status = client.post(
        STATUS, json={"case_number": case["case_number"], "pin": case["pin"]}
    ).json()
    outcomes = {h["type"]: h["outcomes"] for h in status["hashes"]}
    assert [(o["partner"], o["outcome"]) for o in outcomes["pdq"]] == [("Acme", "Blocked")]
    assert [(o["partner"], o["outcome"]) for o in outcomes["md5"]] == [("Acme", "PendingReview")]
    changed = {r["signalType"]: r for r in watcher.fetch()}
    assert set(changed) == {"ImagePDQ", "VideoMD5"}
    assert changed["ImagePDQ"]["CSPFeedbacks"] == [
        {"feedbackValue": "Blocked", "tags": ["nudity"], "source": "Acme"}
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"count": 2, "hashFeedbacks": [{"hashValue": "ab" * 32, "feedbackValue": "Blocked"}]},
    ],
)
def test_bad_feedback_gets_400(api_client: ApiClient, db_sessions: Any, body: Any) -> None:
    client = api_client()
    key = new_partner(db_sessions, "Acme")
    response = client.post(FEEDBACK, json=body, headers=key_headers(key))
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("value", ["Withdrawn", "Deleted", "Great", "blocked"])
def test_feedback_a_platform_may_not_give_gets_422_and_records_nothing(
    api_client: ApiClient, db_sessions: Any, value: str
) -> None:
    """Withdrawn and Deleted are the owner's decisions: a platform reporting them would make
    the person read "Acme: Withdrawn" beside a hash that is still active."""
    client = api_client()
    acme = new_partner(db_sessions, "Acme")
    trusted = new_partner(db_sessions, "Trusted", can_submit=True)
    (case,) = _open_cases(client, 1)
    pdq = case["hashes"][0]["value"]
    item = {"hashValue": pdq, "feedbackValue": value, "tags": []}
    response = client.post(
        FEEDBACK, json={"count": 1, "hashFeedbacks": [item]}, headers=key_headers(acme)
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_request"
    assert body["errors"][0]["loc"] == "body.hashFeedbacks.0.feedbackValue"
    assert "'PendingReview'" in body["errors"][0]["msg"]
    assert "Withdrawn" not in body["errors"][0]["msg"]
    record = {"signalType": "ImagePDQ", "hashValue": pdq_item()["value"]}
    submitted = client.post(
        SUBMIT,
        json={"count": 1, "hashRecords": [{**record, "CSPFeedbacks": [{"feedbackValue": value}]}]},
        headers=key_headers(trusted),
    )
    assert submitted.status_code == 422, submitted.text
    status = client.post(
        STATUS, json={"case_number": case["case_number"], "pin": case["pin"]}
    ).json()
    assert status["status"] == "active"
    assert all(h["outcomes"] == [] for h in status["hashes"])


def test_submit_hashes_needs_the_helpline_permission(
    api_client: ApiClient, db_sessions: Any
) -> None:
    client = api_client()
    plain = new_partner(db_sessions, "Plain")
    trusted = new_partner(db_sessions, "Trusted", can_submit=True)
    pdq = pdq_item()["value"]
    body = {
        "count": 2,
        "hashRecords": [
            {
                "lastModtimestamp": 1,
                "signalType": "StopNCIISignalType.ImagePDQ",  # what the client really sends
                "hashValue": pdq,
                "CSPFeedbacks": [{"feedbackValue": "Blocked", "tags": ["reviewed"]}],
            },
            {"signalType": "VideoMD5", "hashValue": md5_item()["value"], "CSPFeedbacks": []},
        ],
    }
    denied = client.post(SUBMIT, json=body, headers=key_headers(plain))
    assert denied.status_code == 403
    assert denied.json()["detail"].startswith("This partner is not allowed to submit hashes.")
    assert denied.json()["code"] == "submission_not_allowed"
    response = client.post(SUBMIT, json=body, headers=key_headers(trusted))
    assert response.status_code == 200, response.text
    assert response.json() == {"count": 2}
    records = FeedReader(client, plain).fetch()
    by_type = {r["signalType"]: r for r in records}
    assert by_type["ImagePDQ"]["hashValue"] == pdq
    assert by_type["ImagePDQ"]["CSPFeedbacks"] == [
        {"feedbackValue": "Blocked", "tags": ["reviewed"], "source": "Trusted"}
    ]
    assert by_type["VideoMD5"]["CSPFeedbacks"][0]["feedbackValue"] == "Blocked"
    assert len(by_type["ImagePDQ"]["caseNumbers"]) == 1
    bad = {"count": 1, "hashRecords": [{"signalType": "VideoTMK", "hashValue": "00"}]}
    assert client.post(SUBMIT, json=bad, headers=key_headers(trusted)).status_code == 400
    zeros = {"count": 1, "hashRecords": [{"signalType": "ImagePDQ", "hashValue": "0" * 64}]}
    assert client.post(SUBMIT, json=zeros, headers=key_headers(trusted)).status_code == 400


# --------------------------------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------------------------------


def _hash_count(sessions: Any) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(HashRecord)) or 0)


def test_withdrawn_hashes_are_purged_after_the_retention_window(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client = api_client(clock=clock, feed_purge_interval_seconds=0)
    key = new_partner(db_sessions, "Acme")
    gone, kept = _open_cases(client, 2)
    client.post(WITHDRAW, json={"case_number": gone["case_number"], "pin": gone["pin"]})
    reader = FeedReader(client, key)
    reader.fetch()
    assert len(reader.records) == 4
    retention = timedelta(days=30)
    clock.advance(days=29, hours=23)
    with db_sessions() as session:
        assert purge_withdrawn(session, clock(), retention) == 0
    assert _hash_count(db_sessions) == 4
    clock.advance(hours=2)
    with db_sessions() as session:
        assert purge_withdrawn(session, clock(), retention) == 2
    assert _hash_count(db_sessions) == 2
    with db_sessions() as session:  # no cached feed record outlives its hash
        orphans = select(func.count()).where(FeedRecordCache.hash_id.not_in(select(HashRecord.id)))
        assert session.scalar(orphans) == 0
    fresh = FeedReader(client, key)
    fresh.fetch()
    assert set(fresh.records) == _keys([kept])
    # The case is still there (withdrawn), without its purged hashes.
    status = client.post(STATUS, json={"case_number": gone["case_number"], "pin": gone["pin"]})
    assert status.json()["status"] == "withdrawn"
    assert status.json()["hashes"] == []


def test_the_server_purges_by_itself_from_a_fetch(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client = api_client(clock=clock, feed_retention_days=7)
    key = new_partner(db_sessions, "Acme")
    (gone,) = _open_cases(client, 1)
    client.post(WITHDRAW, json={"case_number": gone["case_number"], "pin": gone["pin"]})
    assert client.get(FETCH, headers=key_headers(key)).json()["count"] == 2
    assert _hash_count(db_sessions) == 2  # within the window
    clock.advance(days=8)
    client2 = api_client(clock=clock, feed_retention_days=7)  # a fresh schedule
    assert client2.get(FETCH, headers=key_headers(key)).status_code == 200
    assert _hash_count(db_sessions) == 0
    with db_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        # Old checkpoints go too, but the newest one is always kept.
        assert session.scalar(select(func.count()).select_from(FeedCheckpoint)) == 1


def test_feedback_on_a_vpdq_record_by_the_signature_the_feed_sent(
    api_client: ApiClient, db_sessions: Any
) -> None:
    client = api_client()
    key = new_partner(db_sessions, "Acme")
    client.post(CASES, json=case_body(vpdq_item(frames=3)))
    reader = FeedReader(client, key)
    (record,) = reader.fetch()
    body = {
        "count": 1,
        "hashFeedbacks": [
            {"hashValue": record["hashValue"], "feedbackValue": "NotBlocked", "tags": []}
        ],
    }
    response = client.post(FEEDBACK, json=body, headers=key_headers(key))
    assert response.json() == {"count": 1, "notFound": []}
    (changed,) = reader.fetch()
    assert changed["CSPFeedbacks"] == [
        {"feedbackValue": "NotBlocked", "tags": [], "source": "Acme"}
    ]


_ONE_FEEDBACK = [{"hashValue": "ab" * 32, "feedbackValue": "Blocked"}]


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        (FEEDBACK, {"count": False, "hashFeedbacks": []}, "body.count"),
        (FEEDBACK, {"count": True, "hashFeedbacks": _ONE_FEEDBACK}, "body.count"),
        (FEEDBACK, {"count": "1", "hashFeedbacks": _ONE_FEEDBACK}, "body.count"),
        (FEEDBACK, {"count": 1.5, "hashFeedbacks": _ONE_FEEDBACK}, "body.count"),
        (SUBMIT, {"count": False, "hashRecords": []}, "body.count"),
        (
            FEEDBACK,
            {"count": 1, "hashFeedbacks": [{**_ONE_FEEDBACK[0], "tags": [""]}]},
            "body.hashFeedbacks.0.tags.0",
        ),
        (
            FEEDBACK,
            {"count": 1, "hashFeedbacks": [{**_ONE_FEEDBACK[0], "tags": ["t"] * 21}]},
            "body.hashFeedbacks.0.tags",
        ),
    ],
)
def test_a_body_off_the_documented_shape_gets_the_documented_422(
    api_client: ApiClient, db_sessions: Any, path: str, body: Any, where: str
) -> None:
    """``count`` is a whole number (``false`` is not 0), tags as documented; the answer is the
    error body the document gives for 422 on /v1."""
    client = api_client()
    key = new_partner(db_sessions, "Acme", can_submit=True)
    response = client.post(path, json=body, headers=key_headers(key))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_request"
    assert response.json()["errors"][0]["loc"] == where
    document = client.get("/openapi.json").json()
    documented = document["paths"][path]["post"]["responses"]["422"]
    assert documented["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }


def test_an_empty_batch_is_accepted_as_its_schema_says(
    api_client: ApiClient, db_sessions: Any
) -> None:
    client = api_client()
    key = new_partner(db_sessions, "Trusted", can_submit=True)
    empty = client.post(SUBMIT, json={"count": 0, "hashRecords": []}, headers=key_headers(key))
    assert empty.status_code == 200, empty.text
    assert empty.json() == {"count": 0}
    nothing = client.post(
        FEEDBACK, json={"count": 0, "hashFeedbacks": []}, headers=key_headers(key)
    )
    assert nothing.json() == {"count": 0, "notFound": []}
    whole = client.post(
        SUBMIT,
        json={"count": 1.0, "hashRecords": [{"signalType": "VideoMD5", "hashValue": "ab" * 16}]},
        headers=key_headers(key),
    )
    assert whole.json() == {"count": 1}  # 1.0 is JSON's integer 1


def test_variant_records_are_sent_only_to_clients_asking_for_them(
    api_client: ApiClient, db_sessions: Any
) -> None:
    """A photo's whole-image hash is an ImagePDQ record for everyone; its squares, strips and
    trim are records of their own types, sent with ``variants=1`` only. Withdrawal withdraws
    every one of them."""
    client = api_client()
    key = new_partner(db_sessions, "Acme")
    photo = photo_item(("full", "square", "square", "strip", "trim"))
    before = _open_cases(client, 2)
    created = client.post(CASES, json=case_body(photo))
    assert created.status_code == 201, created.text
    after = _open_cases(client, 2)
    wires = ["ImagePDQ", "ImagePDQSquare", "ImagePDQSquare", "ImagePDQStrip", "ImagePDQTrim"]
    variants = {(w, v["pdq"]) for w, v in zip(wires, photo["variants"], strict=True)}

    stock = FeedReader(client, key, page_size=2)
    stock.fetch()
    full = ("ImagePDQ", photo["variants"][0]["pdq"])
    assert set(stock.records) == _keys(before) | _keys(after) | {full}
    ours = FeedReader(client, key, page_size=2, variants=True)
    ours.fetch()
    assert set(ours.records) == _keys(before) | _keys(after) | variants
    assert stock.checkpoint == ours.checkpoint

    for bad in ("2", "yes", "-1"):
        response = client.get(FETCH, params={"variants": bad}, headers=key_headers(key))
        assert response.status_code == 400, bad

    body = created.json()
    withdrawn = client.post(WITHDRAW, json={"case_number": body["case_number"], "pin": body["pin"]})
    assert withdrawn.status_code == 200
    changed = ours.fetch()
    assert {(r["signalType"], r["hashValue"]) for r in changed} == variants
    assert {r["hashStatus"] for r in changed} == {"Withdrawn"}
    assert [r["signalType"] for r in stock.fetch()] == ["ImagePDQ"]
