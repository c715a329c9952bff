"""The pieces of the OpenNCII exchange for python-threatexchange, against a live OpenNCII app."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from threatexchange.exchanges import fetch_state as state
from threatexchange.extensions.manifest import ThreatExchangeExtensionManifest
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

from case_helpers import CASES, STATUS, WITHDRAW, case_body, md5_item, pdq_item, vpdq_item
from openncii.api import create_app
from openncii.integrations.threatexchange import (
    OpenNCIICollabConfig,
    OpenNCIICredentials,
    OpenNCIISignalExchangeAPI,
    OpenNCIIVideoPdqSignal,
)
from openncii.integrations.threatexchange.exchange import _signals
from openncii.integrations.threatexchange.vpdq import (
    from_feed_value,
    to_feed_value,
    to_stock_signal,
)
from openncii.partner import parse_page
from openncii.testing import serve_in_thread
from partner_helpers import new_partner

TYPES = [PdqSignal, VideoMD5Signal, OpenNCIIVideoPdqSignal]


@pytest.fixture
def live_url(make_settings: Callable[..., Any]) -> Iterator[str]:
    with serve_in_thread(create_app(make_settings())) as url:
        yield url


@contextlib.contextmanager
def _exchange(url: str, key: str) -> Iterator[OpenNCIISignalExchangeAPI]:
    collab = OpenNCIICollabConfig(name="ncii", server=url)
    exchange = OpenNCIISignalExchangeAPI.for_collab(collab, OpenNCIICredentials(key=key))
    try:
        yield exchange
    finally:
        exchange.client.close()


def test_the_manifest_loads_by_module_name() -> None:
    manifest = ThreatExchangeExtensionManifest.load_from_module_name(
        "openncii.integrations.threatexchange"
    )
    assert manifest.apis == (OpenNCIISignalExchangeAPI,)
    assert manifest.signal_types == (OpenNCIIVideoPdqSignal,)
    assert OpenNCIISignalExchangeAPI.get_name() == "openncii"
    assert OpenNCIIVideoPdqSignal.get_name() == "openncii_vpdq"


def test_fetch_turns_withdrawn_records_into_deletions(live_url: str, db_sessions: Any) -> None:
    key = new_partner(db_sessions, "Acme")
    with _exchange(live_url, key) as exchange, httpx.Client(base_url=live_url) as http:
        video = vpdq_item(frames=2)
        created = http.post(CASES, json=case_body(pdq_item(), md5_item(), video)).json()
        deltas = list(exchange.fetch_iter(TYPES, None))
        updates = {k: v for d in deltas for k, v in d.updates.items()}
        assert {name for name, _ in updates} == {"pdq", "video_md5", "openncii_vpdq"}
        assert all(v is not None and len(v.case_refs) == 1 for v in updates.values())
        (vpdq_key,) = [k for k in updates if k[0] == "openncii_vpdq"]
        assert OpenNCIIVideoPdqSignal.validate_signal_str(vpdq_key[1]) == vpdq_key[1]
        checkpoint = deltas[-1].checkpoint
        assert checkpoint is not None and not checkpoint.is_stale()

        # Only the signal types the tool has enabled are passed on.
        only_pdq = list(exchange.fetch_iter([PdqSignal], None))
        assert {k[0] for d in only_pdq for k in d.updates} == {"pdq"}

        http.post(WITHDRAW, json={"case_number": created["case_number"], "pin": created["pin"]})
        later = list(exchange.fetch_iter(TYPES, checkpoint))
        changes = {k: v for d in later for k, v in d.updates.items()}
        assert changes == dict.fromkeys(updates)  # every hash of the case: deleted
        merged = dict(updates)
        OpenNCIISignalExchangeAPI.naive_fetch_merge(merged, changes)
        assert merged == {}


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        (state.SignalOpinionCategory.POSITIVE_CLASS, "Blocked"),
        (state.SignalOpinionCategory.NEGATIVE_CLASS, "NotBlocked"),
        (state.SignalOpinionCategory.INVESTIGATION_SEED, "PendingReview"),
    ],
)
def test_opinions_become_feedback(
    live_url: str, db_sessions: Any, category: state.SignalOpinionCategory, expected: str
) -> None:
    key = new_partner(db_sessions, "Acme")
    with _exchange(live_url, key) as exchange, httpx.Client(base_url=live_url) as http:
        video = vpdq_item(frames=2)
        created = http.post(CASES, json=case_body(pdq_item(), video)).json()
        updates = {k: v for d in exchange.fetch_iter(TYPES, None) for k, v in d.updates.items()}
        for signal_type, signal in updates:
            s_type = PdqSignal if signal_type == "pdq" else OpenNCIIVideoPdqSignal
            exchange.report_opinion(s_type, signal, state.SignalOpinion(True, category, {"t1"}))
        status = http.post(
            STATUS, json={"case_number": created["case_number"], "pin": created["pin"]}
        ).json()
        outcomes = [(o["partner"], o["outcome"]) for h in status["hashes"] for o in h["outcomes"]]
        assert outcomes == [("Acme", expected), ("Acme", expected)]


def test_vpdq_signal_strings() -> None:
    text = "0,90," + "ab" * 32 + ",0.000\n30,80," + "cd" * 32 + ",1.000"
    signal = from_feed_value(text)
    assert "\n" not in signal
    assert to_feed_value(signal) == text
    assert OpenNCIIVideoPdqSignal.validate_signal_str(signal) == signal
    assert OpenNCIIVideoPdqSignal.compare_hash(signal, signal).match
    other = from_feed_value("0,90," + "12" * 32 + ",0.000")
    assert not OpenNCIIVideoPdqSignal.compare_hash(signal, other).match
    with pytest.raises(ValueError, match="vPDQ"):
        OpenNCIIVideoPdqSignal.validate_signal_str("0,90,zz,0.000")
    index = OpenNCIIVideoPdqSignal.get_index_cls().build([(signal, "a"), (other, "b")])
    assert [m.metadata for m in index.query(signal)] == ["a"]


def test_vpdq_records_in_the_stock_vpdq_form() -> None:
    """python-threatexchange's own vpdq type (it needs the compiled `vpdq` package, not
    installed here) gets the record as its JSON list of "pdq,quality,timestamp"; checked by
    hand against the C++ vpdq 0.2.5 on carphone_pristine.mp4: the same string, byte for byte."""
    text = (
        "0,100,"
        + "ab" * 32
        + ",0.000\n29,90,"
        + "cd" * 32
        + ",0.968\n58,90,"
        + "ef" * 32
        + ",1.935"
    )
    record = parse_page(
        json.dumps(
            {
                "count": 1,
                "nextPageToken": None,
                "nextSetTimestamp": 1,
                "hasMoreRecords": False,
                "hashRecords": [
                    {
                        "lastModtimestamp": 1,
                        "signalType": "VideoPDQ",
                        "hashValue": text,
                        "hashStatus": "Active",
                        "caseNumbers": {"ref": "Active"},
                        "CSPFeedbacks": [],
                    }
                ],
            }
        ).encode()
    ).records[0]
    keys = dict(_signals(record))
    assert keys["openncii_vpdq"] == from_feed_value(text)
    assert json.loads(keys["vpdq"]) == [
        "ab" * 32 + ",100,0.0",
        "cd" * 32 + ",90,0.968",
        "ef" * 32 + ",90,1.94",
    ]
    assert to_stock_signal(text) == keys["vpdq"]


def test_credentials_never_show_the_key() -> None:
    credentials = OpenNCIICredentials._from_str("  onp_secret-key \n")
    assert credentials.key == "onp_secret-key"
    assert "secret" not in repr(credentials)
    assert not OpenNCIICredentials(key="two words")._are_valid()


def test_a_collab_without_server_is_refused() -> None:
    from threatexchange.exchanges.auth import SignalExchangeAPIInvalidAuthException

    with pytest.raises(SignalExchangeAPIInvalidAuthException) as caught:
        OpenNCIISignalExchangeAPI.for_collab(
            OpenNCIICollabConfig(name="x"), OpenNCIICredentials(key="k")
        )
    assert "--server" in caught.value.message
