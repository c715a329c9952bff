"""The real python-threatexchange StopNCII client, unmodified, against a live OpenNCII server.

The server is the FastAPI app under uvicorn in a thread (``serve_in_thread``), on a free
loopback port, on this test's database (SQLite and PostgreSQL); the client only gets
``base_url_override``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import requests
from threatexchange.exchanges.clients.stopncii.api import (
    StopNCIIAPI,
    StopNCIICaseStatus,
    StopNCIICSPFeedbackValue,
    StopNCIIEndpoint,
    StopNCIIHashRecord,
    StopNCIISignalType,
)
from threatexchange.exchanges.impl.stop_ncii_api import StopNCIISignalExchangeAPI
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

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
from openncii.api import create_app
from openncii.testing import serve_in_thread
from partner_helpers import new_partner


@pytest.fixture
def live_url(make_settings: Callable[..., Any]) -> Iterator[str]:
    with serve_in_thread(create_app(make_settings())) as url:
        yield url


def _client(url: str, key: str) -> StopNCIIAPI:
    """As an HMA operator configures it: the OpenNCII key as both keys, our URL as the base."""
    return StopNCIIAPI(
        subscription_key=key,
        fetch_function_key=key,
        additional_function_keys={StopNCIIEndpoint.SubmitFeedback: key},
        base_url_override=f"{url}/v1",
    )


def _open_case(http: httpx.Client, *hashes: dict[str, Any]) -> dict[str, Any]:
    response = http.post(CASES, json=case_body(*hashes))
    assert response.status_code == 201, response.text
    return {**response.json(), "hashes": hashes}


def _fetch_all(
    api: StopNCIIAPI, start: int, page_size: int
) -> tuple[dict[tuple[StopNCIISignalType, str], StopNCIIHashRecord], int, int]:
    """Page through with the client's own fetch_hashes; return records, checkpoint and pages."""
    records: dict[tuple[StopNCIISignalType, str], StopNCIIHashRecord] = {}
    token, pages, checkpoints = "", 0, []
    while True:
        result = api.fetch_hashes(page_size=page_size, start_timestamp=start, next_page=token)
        pages += 1
        # count is what the server sent; the client drops types it does not know (VideoPDQ).
        assert len(result.hashRecords) <= result.count <= page_size
        checkpoints.append(result.nextSetTimestamp)
        for record in result.hashRecords:
            records[(record.signalType, record.hashValue)] = record
        if not result.hasMoreRecords:
            assert checkpoints == sorted(checkpoints)
            return records, result.nextSetTimestamp, pages
        token = result.nextPageToken or ""


def test_full_and_incremental_fetch_with_the_real_client(live_url: str, db_sessions: Any) -> None:
    key = new_partner(db_sessions, "Acme")
    api = _client(live_url, key)
    with httpx.Client(base_url=live_url) as http:
        cases = [_open_case(http, pdq_item(), md5_item()) for _ in range(5)]
        _open_case(http, vpdq_item())  # a type the client does not know: skipped, no failure
        records, checkpoint, pages = _fetch_all(api, StopNCIIAPI.DEFAULT_START_TIME, 3)
        assert pages == 4  # 11 records in pages of 3
        expected = {(StopNCIISignalType.ImagePDQ, c["hashes"][0]["value"]) for c in cases} | {
            (StopNCIISignalType.VideoMD5, c["hashes"][1]["value"]) for c in cases
        }
        assert set(records) == expected
        record = records[(StopNCIISignalType.ImagePDQ, cases[0]["hashes"][0]["value"])]
        assert record.hashStatus == StopNCIICaseStatus.Active
        assert list(record.caseNumbers.values()) == [StopNCIICaseStatus.Active]
        assert abs(checkpoint - time.time()) < 120  # a Unix time in seconds

        # The client's own iterator (default page size) from the saved checkpoint: nothing new.
        assert [r.hashRecords for r in api.fetch_hashes_iter(checkpoint)] == [[]]

        # Changes since the checkpoint, withdrawals included, and only those.
        new = _open_case(http, pdq_item())
        gone = cases[0]
        response = http.post(
            WITHDRAW, json={"case_number": gone["case_number"], "pin": gone["pin"]}
        )
        assert response.status_code == 200
        changes, checkpoint2, _ = _fetch_all(api, checkpoint, 2)
        assert checkpoint2 >= checkpoint
        assert set(changes) == {
            (StopNCIISignalType.ImagePDQ, new["hashes"][0]["value"]),
            (StopNCIISignalType.ImagePDQ, gone["hashes"][0]["value"]),
            (StopNCIISignalType.VideoMD5, gone["hashes"][1]["value"]),
        }
        withdrawn = changes[(StopNCIISignalType.VideoMD5, gone["hashes"][1]["value"])]
        assert withdrawn.hashStatus == StopNCIICaseStatus.Withdrawn


def test_the_exchange_adapter_checkpoints_and_does_not_delete_withdrawn_records(
    live_url: str, db_sessions: Any
) -> None:
    """HMA's view: StopNCIISignalExchangeAPI.fetch_iter with its checkpoint. Documents that the
    adapter (threatexchange 1.2.17) keeps Withdrawn records instead of deleting them."""
    key = new_partner(db_sessions, "Acme")
    exchange = StopNCIISignalExchangeAPI(None, _client(live_url, key))  # type: ignore[arg-type]
    with httpx.Client(base_url=live_url) as http:
        case = _open_case(http, pdq_item(), md5_item())
        deltas = list(exchange.fetch_iter([PdqSignal, VideoMD5Signal], None))
        checkpoint = deltas[-1].checkpoint
        assert checkpoint is not None
        assert not checkpoint.is_stale()
        assert abs(checkpoint.get_progress_timestamp() - time.time()) < 120  # type: ignore[operator]
        assert set(deltas[-1].updates) == {
            (PdqSignal.get_name(), case["hashes"][0]["value"]),
            (VideoMD5Signal.get_name(), case["hashes"][1]["value"]),
        }
        http.post(WITHDRAW, json={"case_number": case["case_number"], "pin": case["pin"]})
        deltas = list(exchange.fetch_iter([PdqSignal, VideoMD5Signal], checkpoint))
        updates = deltas[-1].updates
        assert len(updates) == 2
        assert deltas[-1].checkpoint.get_progress_timestamp() >= checkpoint.update_time  # type: ignore[union-attr, operator]
        # A deletion would be None; the adapter keeps metadata for Withdrawn records.
        assert all(metadata is not None for metadata in updates.values())


def test_the_real_client_sees_no_variant_records_unless_asked(
    live_url: str, db_sessions: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Robust matching's variant records (squares, strips, trims of photos) are sent only to
    clients asking with ``variants=1``: the stock client gets the photo's whole-image hash as
    an ImagePDQ record, exactly as before, and logs nothing. Asked for them, it skips each
    variant record with one ERROR line that holds the whole record, hash value included
    (``Convert response from JSON to Dataclass failed``): why they are opt-in."""
    key = new_partner(db_sessions, "Acme")
    api = _client(live_url, key)
    photo = photo_item(("full", "square", "square", "strip", "trim"))
    full = photo["variants"][0]["pdq"]
    with httpx.Client(base_url=live_url) as http:
        _open_case(http, photo, md5_item())
    caplog.set_level("DEBUG")
    caplog.clear()
    records, _, _ = _fetch_all(api, StopNCIIAPI.DEFAULT_START_TIME, 3)
    assert {(t, v) for t, v in records if t is StopNCIISignalType.ImagePDQ} == {
        (StopNCIISignalType.ImagePDQ, full)
    }
    assert len(records) == 2
    assert [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")] == []

    # The same client made to ask for variants (as an operator adding the parameter would).
    plain_get = api._get

    def with_variants(endpoint: StopNCIIEndpoint, **params: Any) -> Any:
        return plain_get(endpoint, **params, variants=1)

    api._get = with_variants  # type: ignore[method-assign]
    caplog.clear()
    result = api.fetch_hashes(page_size=100, start_timestamp=StopNCIIAPI.DEFAULT_START_TIME)
    assert result.count == 6  # the server sent all of them
    assert len(result.hashRecords) == 2  # the client kept the two it knows, did not fail
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 4  # one line per variant record
    assert all("Convert response from JSON to Dataclass failed" in r.getMessage() for r in errors)
    leaked = {v["pdq"] for v in photo["variants"][1:]}
    assert {h for h in leaked if any(h in r.getMessage() for r in errors)} == leaked


def test_submit_feedback_with_the_real_client(live_url: str, db_sessions: Any) -> None:
    acme = _client(live_url, new_partner(db_sessions, "Acme"))
    other = _client(live_url, new_partner(db_sessions, "Other"))
    with httpx.Client(base_url=live_url) as http:
        case = _open_case(http, pdq_item())
        pdq = case["hashes"][0]["value"]
        _, checkpoint, _ = _fetch_all(other, 0, 10)
        acme.submit_feedback(
            StopNCIISignalType.ImagePDQ, pdq, StopNCIICSPFeedbackValue.Blocked, {"reviewed"}
        )
        status = http.post(
            STATUS, json={"case_number": case["case_number"], "pin": case["pin"]}
        ).json()
        (outcome,) = status["hashes"][0]["outcomes"]
        assert (outcome["partner"], outcome["outcome"]) == ("Acme", "Blocked")
        changes, _, _ = _fetch_all(other, checkpoint, 10)
        (record,) = changes.values()
        (feedback,) = record.CSPFeedbacks
        assert feedback.source == "Acme"
        assert feedback.feedbackValue == StopNCIICSPFeedbackValue.Blocked
        assert feedback.tags == {"reviewed"}


def test_submit_hashes_with_the_real_client(live_url: str, db_sessions: Any) -> None:
    trusted = _client(live_url, new_partner(db_sessions, "Trusted", can_submit=True))
    plain_key = new_partner(db_sessions, "Plain")
    plain = StopNCIIAPI(
        plain_key,
        plain_key,
        {StopNCIIEndpoint.SubmitHashes: plain_key},
        base_url_override=f"{live_url}/v1",
    )
    trusted._function_keys[StopNCIIEndpoint.SubmitHashes] = trusted._function_keys[
        StopNCIIEndpoint.FetchHashes
    ]
    pdq = pdq_item()["value"]
    trusted.submit_hash(StopNCIISignalType.ImagePDQ, pdq)
    with pytest.raises(requests.HTTPError) as refused:
        plain.submit_hash(StopNCIISignalType.ImagePDQ, pdq_item()["value"])
    assert refused.value.response.status_code == 403
    records, _, _ = _fetch_all(plain, 0, 10)
    (record,) = records.values()
    assert record.hashValue == pdq
    assert [f.source for f in record.CSPFeedbacks] == ["Trusted"]


def test_a_bad_key_gets_401_through_the_real_client(live_url: str, db_sessions: Any) -> None:
    new_partner(db_sessions, "Acme")
    api = _client(live_url, "onp_not-a-key")
    with pytest.raises(requests.HTTPError) as failed:
        api.fetch_hashes()
    assert failed.value.response.status_code == 401
    assert failed.value.response.json()["detail"]
    with pytest.raises(requests.HTTPError) as failed:
        api.submit_feedback(StopNCIISignalType.ImagePDQ, "ab" * 32, StopNCIICSPFeedbackValue.None_)
    assert failed.value.response.status_code == 401
