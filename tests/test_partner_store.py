"""``openncii.partner.PartnerStore``: the partner's local copy of the bank (no server needed)."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from case_helpers import random_md5, random_pdq
from openncii.errors import PartnerStoreError
from openncii.partner import (
    SCHEMA_VERSION,
    CSPFeedback,
    HashRecord,
    Outcome,
    PartnerStore,
    hash_key,
)
from openncii.signals.registry import keys

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SERVER = "https://ncii.example/v1"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[PartnerStore]:
    with PartnerStore.open(tmp_path / "store.sqlite3") as opened:
        yield opened


def record(
    value: str | None = None,
    *,
    signal_type: str = "pdq",
    status: str = "Active",
    refs: dict[str, str] | None = None,
    modified: int = 1_700_000_000,
    feedbacks: tuple[CSPFeedback, ...] = (),
) -> HashRecord:
    if value is None:
        value = random_pdq() if signal_type == "pdq" else random_md5()
    wire = {"pdq": "ImagePDQ", "md5": "VideoMD5", "vpdq": "VideoPDQ"}[signal_type]
    return HashRecord(
        signal_type=signal_type,
        wire_type=wire,
        value=value,
        key=hash_key(signal_type, value),
        status=status,
        case_refs=refs if refs is not None else {"ref-a": status},
        feedbacks=feedbacks,
        last_modified=modified,
    )


def apply(store: PartnerStore, *records: HashRecord, done: bool = True) -> None:
    store.apply_page(
        list(records),
        next_page_token=None if done else "token",
        next_start_timestamp=1_700_000_100 if done else None,
        now=NOW,
    )


def test_new_store_is_versioned_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "store.sqlite3"
    with PartnerStore.open(path) as store:
        assert store.change_seq == 0
        assert store.counts() == dict.fromkeys(keys(), 0)
        state = store.sync_state()
        assert (state.start_timestamp, state.page_token, state.checkpoint_at) == (0, None, None)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    with PartnerStore.open(path) as again:  # reopening does not migrate twice
        assert again.change_seq == 0


def test_newer_or_foreign_files_are_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite3"
    PartnerStore.open(newer).close()
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(PartnerStoreError, match="newer OpenNCII"):
        PartnerStore.open(newer)
    foreign = tmp_path / "foreign.sqlite3"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE t (x)")
    db.close()
    with pytest.raises(PartnerStoreError, match="not a partner store"):
        PartnerStore.open(foreign)
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"x" * 4096)
    with pytest.raises(PartnerStoreError, match="not an OpenNCII partner store"):
        PartnerStore.open(garbage)


def test_apply_page_adds_updates_and_removes(store: PartnerStore) -> None:
    a, b, m = record(), record(), record(signal_type="md5")
    apply(store, a, b, m)
    assert store.counts() == {**dict.fromkeys(keys(), 0), "pdq": 2, "md5": 1}
    assert store.change_seq == 3
    state = store.sync_state()
    assert state.start_timestamp == 1_700_000_100 and state.checkpoint_at == NOW

    # The same snapshot again: nothing changes, no new change_seq.
    apply(store, a, b, m)
    assert store.change_seq == 3

    # A changed record gets a new change_seq; a withdrawn one becomes a tombstone.
    feedback = (CSPFeedback("Blocked", ("nudity",), "Zeta"),)
    a2 = record(a.value, refs={"ref-a": "Active", "ref-b": "Active"}, feedbacks=feedback)
    withdrawn = record(b.value, status="Withdrawn")
    apply(store, a2, withdrawn)
    assert store.change_seq == 5
    row = store.get("pdq", a.value.upper())
    assert row is not None and row.case_refs == {"ref-a": "Active", "ref-b": "Active"}
    assert row.feedbacks == feedback and row.change_seq == 4
    assert store.get("pdq", b.value) is None  # its value is gone from the store
    changes = store.changes_since(3)
    assert [r.id for r in changes.upserted] == [row.id]
    (gone,) = changes.removed
    assert (gone.signal_type, gone.value, gone.key, gone.active) == ("pdq", None, None, False)
    assert gone.status == "Withdrawn" and changes.seq == 5

    # A withdrawal of a hash never held stores nothing; a re-activated hash is a new row.
    apply(store, record(status="Deleted"))
    assert store.change_seq == 5
    apply(store, record(b.value))
    again = store.get("pdq", b.value)
    assert again is not None and again.id != gone.id and again.change_seq == 6


def test_pdq_codes_is_the_bulk_read_for_an_index(store: PartnerStore) -> None:
    rng = random.Random(7)
    records = [record(random_pdq(rng)) for _ in range(50)]
    apply(store, *records, record(signal_type="md5"))
    apply(store, record(records[3].value, status="Withdrawn"))
    codes, ids, seq = store.pdq_codes()
    assert codes.dtype == np.uint8 and codes.shape == (49, 32)
    assert ids.dtype == np.int64 and list(ids) == sorted(ids)
    assert seq == store.change_seq
    rows = store.rows(ids.tolist())
    for code, row_id in zip(codes, ids, strict=True):
        assert bytes(code).hex() == rows[int(row_id)].value
    assert records[3].value not in {r.value for r in rows.values()}
    assert store.changes_since(seq).upserted == ()


def test_active_iterates_values_and_case_refs(store: PartnerStore) -> None:
    signature = f"0,90,{random_pdq()},0.000\n1,80,{random_pdq()},1.000"
    video = record(signature, signal_type="vpdq", refs={"ref-v": "Active"})
    apply(store, video, record(signal_type="md5"))
    (row,) = store.active("vpdq")
    assert row.value == signature and row.key == hash_key("vpdq", signature)
    assert row.case_refs == {"ref-v": "Active"}
    assert store.get("vpdq", signature) == row
    assert store.get("vpdq", row.key or "") == row  # by its SHA-256 too
    assert [r.signal_type for r in store.active("md5")] == ["md5"]
    with pytest.raises(ValueError, match="signal_type"):
        list(store.active("tmk"))


def test_changes_since_with_a_limit_pages_through(store: PartnerStore) -> None:
    apply(store, *[record() for _ in range(7)])
    seen: list[int] = []
    seq = 0
    while True:
        changes = store.changes_since(seq, limit=3)
        seen.extend(r.change_seq for r in changes.upserted)
        if changes.seq == seq:
            break
        seq = changes.seq
    assert seen == list(range(1, 8))


def test_full_resync_removes_what_the_server_no_longer_sends(store: PartnerStore) -> None:
    kept, dropped = record(), record()
    apply(store, kept, dropped)
    state = store.begin_full_resync(SERVER)
    assert state.resyncing and state.start_timestamp == 0 and state.server == SERVER
    # Mid-resync the old rows stay readable for matching.
    apply(store, kept, done=False)
    assert store.counts()["pdq"] == 2
    counts = store.apply_page([], next_page_token=None, next_start_timestamp=9, now=NOW)
    assert counts.removed == 1
    assert [r.value for r in store.active("pdq")] == [kept.value]
    assert not store.sync_state().resyncing
    (gone,) = store.changes_since(2).removed
    assert gone.key is None


def test_a_failed_transaction_changes_nothing(store: PartnerStore) -> None:
    apply(store, record())
    before = (store.change_seq, store.sync_state())
    bad = record()
    object.__setattr__(bad, "value", "not hex")  # bytes.fromhex fails inside the transaction
    with pytest.raises(ValueError):
        apply(store, record(), bad)
    assert (store.change_seq, store.sync_state()) == before
    assert store.counts()["pdq"] == 1


def test_readers_see_whole_pages_while_a_writer_writes(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    writer = PartnerStore.open(path)
    reader = PartnerStore.open(path)
    stop = threading.Event()
    sizes: set[int] = set()

    def read() -> None:
        while not stop.is_set():
            codes, _ids, _seq = reader.pdq_codes()
            sizes.add(codes.shape[0])

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for _ in range(30):
            apply(writer, *[record() for _ in range(10)], done=False)
    finally:
        stop.set()
        thread.join()
        writer.close()
    assert all(size % 10 == 0 for size in sizes)  # never half a page
    assert reader.counts()["pdq"] == 300
    reader.close()


def test_outcomes_are_recorded(store: PartnerStore) -> None:
    first = store.record_outcome(Outcome("a" * 64, "pdq", "Blocked", ("nudity",), NOW))
    store.record_outcome(Outcome("b" * 32, None, "NotBlocked", (), NOW, recorded=False))
    assert first.id is not None
    assert [o.feedback for o in store.outcomes()] == ["Blocked", "NotBlocked"]
    (only,) = store.outcomes("b" * 32)
    assert (only.recorded, only.signal_type, only.sent_at) == (False, None, NOW)


def test_reprs_do_not_show_hash_values(store: PartnerStore) -> None:
    value = random_pdq()
    apply(store, record(value))
    row = store.get("pdq", value)
    assert value not in repr(row) and value not in repr(record(value))


# --------------------------------------------------------------------------------------------------
# The change feed's contract, against a model: a follower applying changes_since ends up holding
# exactly the store's active rows, whatever mix of pages, withdrawals and full resyncs happened.
# --------------------------------------------------------------------------------------------------

_POOL = [f"{i:064x}" for i in range(1, 13)]
_step = st.one_of(
    st.tuples(
        st.just("page"),
        st.lists(
            st.tuples(
                st.sampled_from(_POOL), st.sampled_from(["Active", "Withdrawn"]), st.integers(0, 2)
            ),
            max_size=6,
        ),
        st.booleans(),
    ),
    st.tuples(st.just("resync"), st.sets(st.sampled_from(_POOL), max_size=12), st.booleans()),
    st.tuples(st.just("follow"), st.just([]), st.booleans()),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(_step, max_size=12))
def test_change_feed_followers_match_the_store(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, Any, bool]]
) -> None:
    path = tmp_path_factory.mktemp("model") / "store.sqlite3"
    model: dict[str, int] = {}  # value -> refs version, for active hashes
    follower: dict[int, str] = {}
    seq = 0
    with PartnerStore.open(path) as store:
        for kind, payload, done in steps:
            if kind == "page":
                records = [
                    record(value, status=status, refs={f"r{version}": status})
                    for value, status, version in payload
                ]
                apply(store, *records, done=done)
                for value, status, version in payload:
                    if status == "Active":
                        model[value] = version
                    else:
                        model.pop(value, None)
            elif kind == "resync":
                store.begin_full_resync(SERVER)
                apply(store, *[record(v, refs={"r0": "Active"}) for v in sorted(payload)])
                model = dict.fromkeys(payload, 0)
            changes = store.changes_since(seq)
            assert changes.seq >= seq
            if kind == "follow" or done:
                for row in changes.removed:
                    follower.pop(row.id, None)
                for row in changes.upserted:
                    assert row.value is not None
                    follower[row.id] = row.value
                seq = changes.seq
        assert {r.value: int(next(iter(r.case_refs))[1:]) for r in store.active("pdq")} == model
        final = store.changes_since(seq)
        for row in final.removed:
            follower.pop(row.id, None)
        for row in final.upserted:
            follower[row.id] = row.value or ""
        assert sorted(follower.values()) == sorted(model)
        codes, _ids, _ = store.pdq_codes()
        assert sorted(bytes(c).hex() for c in codes) == sorted(model)
