"""The partner-side matcher: PDQ (with dihedral variants), MD5 and vPDQ against a changing bank.

The bank here is a plain in-memory :class:`BankSource`; the store-backed matcher is exercised
in tests/test_matcher_app.py and tests/test_partner_end_to_end.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openncii.errors import InvalidHashError
from openncii.partner.matcher import BankChanges, BankRecord, BankSnapshot, Matcher, PdqQuery
from openncii.signals.pdq import PdqHash, hamming_distance
from openncii.signals.registry import MD5, PDQ, VPDQ
from openncii.signals.vpdq import VpdqFeature, format_vpdq_text
from partner_helpers import balanced_pdq, flip_pdq


class ListSource:
    """A bank held in a list of changes, positions 1..n (what the store's change feed gives)."""

    def __init__(self) -> None:
        self.log: list[tuple[int, BankRecord | int]] = []
        self.lock = threading.Lock()

    def upsert(self, record: BankRecord) -> None:
        with self.lock:
            self.log.append((len(self.log) + 1, record))

    def remove(self, key: int) -> None:
        with self.lock:
            self.log.append((len(self.log) + 1, key))

    def bank_snapshot(self) -> BankSnapshot:
        changes = self.bank_changes(0)
        pdq = sorted((r.key, r.value) for r in changes.upserts if r.signal == "pdq")
        codes = np.array([list(bytes.fromhex(v)) for _, v in pdq], dtype=np.uint8).reshape(-1, 32)
        keys = np.array([k for k, _ in pdq], dtype=np.int64)
        others = [r for r in changes.upserts if r.signal != "pdq"]
        return BankSnapshot(codes, keys, others, changes.position)

    def describe(self, keys: Iterable[int]) -> dict[int, BankRecord]:
        current = {r.key: r for r in self.bank_changes(0).upserts}
        return {k: current[k] for k in keys if k in current}

    def bank_changes(self, since: int) -> BankChanges:
        with self.lock:
            latest: dict[int, BankRecord | None] = {}
            for position, item in self.log:
                if position <= since:
                    continue
                if isinstance(item, BankRecord):
                    latest[item.key] = item
                else:
                    latest[item] = None
            return BankChanges(
                upserts=[r for r in latest.values() if r is not None],
                removed=[k for k, r in latest.items() if r is None],
                position=len(self.log),
            )


def test_pdq_matches_equal_brute_force() -> None:
    rng = np.random.default_rng(7)
    source = ListSource()
    bank = [balanced_pdq(rng) for _ in range(300)]
    for key, value in enumerate(bank, start=1):
        source.upsert(BankRecord(key, "pdq", value, (f"ref-{key}",)))
    matcher = Matcher(source)
    assert matcher.refresh() == 300
    queries = [
        flip_pdq(bank[i], int(d), rng)
        for i, d in zip(range(0, 300, 3), rng.integers(0, 45, 100), strict=True)
    ]
    queries += [balanced_pdq(rng) for _ in range(20)]
    found = matcher.match_pdq([PdqQuery(q) for q in queries])
    expected = sorted(
        (qi, key, hamming_distance(q, value))
        for qi, q in enumerate(queries)
        for key, value in enumerate(bank, start=1)
        if hamming_distance(q, value) <= 31
    )
    assert sorted((m.query, m.key, m.distance) for m in found) == expected
    assert len(expected) > 50  # planted neighbours within 31 were found
    # Every match carries its bank hash and case reference (read from the source).
    assert all(m.hash == bank[m.key - 1] for m in found)
    assert all(m.case_refs == (f"ref-{m.key}",) for m in found)


def test_dihedral_variants_report_the_best_distance() -> None:
    rng = np.random.default_rng(11)
    source = ListSource()
    stored = balanced_pdq(rng)
    source.upsert(BankRecord(1, "pdq", stored, ("r",)))
    matcher = Matcher(source)
    matcher.refresh()
    far = flip_pdq(stored, 100, rng)
    near = flip_pdq(stored, 5, rng)
    # Only a variant (a mirrored copy's hash, say) is near: it is found, at its distance.
    assert [(m.key, m.distance) for m in matcher.match_pdq([PdqQuery(far, (far, near))])] == [
        (1, 5)
    ]
    assert matcher.match_pdq([PdqQuery(far)]) == []


def test_threshold_is_inclusive_and_per_call() -> None:
    rng = np.random.default_rng(3)
    source = ListSource()
    stored = balanced_pdq(rng)
    source.upsert(BankRecord(9, "pdq", stored, ()))
    matcher = Matcher(source)
    matcher.refresh()
    at_31 = flip_pdq(stored, 31, rng)
    at_40 = flip_pdq(stored, 40, rng)
    assert [m.distance for m in matcher.match_pdq([PdqQuery(at_31)])] == [31]
    assert matcher.match_pdq([PdqQuery(at_40)]) == []
    assert [m.distance for m in matcher.match_pdq([PdqQuery(at_40)], threshold=40)] == [40]
    with pytest.raises(ValueError, match="threshold"):
        matcher.match_pdq([PdqQuery(at_40)], threshold=-1)


def test_refresh_applies_withdrawals_and_replacements() -> None:
    rng = np.random.default_rng(5)
    source = ListSource()
    a, b = balanced_pdq(rng), balanced_pdq(rng)
    source.upsert(BankRecord(1, "pdq", a, ("x",)))
    source.upsert(BankRecord(2, "md5", "0" * 31 + "1", ("y",)))
    matcher = Matcher(source)
    matcher.refresh()
    assert matcher.counts() == {"pdq": 1, "md5": 1, "vpdq": 0}
    source.remove(1)
    source.upsert(BankRecord(2, "md5", "0" * 31 + "1", ("y", "z")))
    source.upsert(BankRecord(3, "pdq", b, ("w",)))
    assert matcher.refresh() == 3
    assert matcher.match_pdq([PdqQuery(a)]) == []
    assert [m.key for m in matcher.match_pdq([PdqQuery(b)])] == [3]
    (md5,) = matcher.match_md5(["0" * 31 + "1"])
    assert md5.case_refs == ("y", "z")
    assert matcher.counts() == {"pdq": 1, "md5": 1, "vpdq": 0}
    assert matcher.refresh() == 0  # nothing new


def test_md5_is_exact_and_case_insensitive() -> None:
    source = ListSource()
    source.upsert(BankRecord(4, "md5", "ab" * 16, ("r",)))
    matcher = Matcher(source)
    matcher.refresh()
    assert [(m.query, m.key) for m in matcher.match_md5(["cd" * 16, "AB" * 16])] == [(1, 4)]
    with pytest.raises(InvalidHashError):
        matcher.match_md5(["not-an-md5"])


def test_malformed_pdq_query_is_refused_before_searching() -> None:
    matcher = Matcher(ListSource())
    matcher.refresh()
    with pytest.raises(InvalidHashError):
        matcher.match_pdq([PdqQuery("zz" * 32)])
    with pytest.raises(InvalidHashError):
        matcher.match_pdq([PdqQuery("ab" * 16)])


def _video(hashes: list[str], quality: int = 90) -> list[VpdqFeature]:
    return [VpdqFeature(i, quality, h, float(i)) for i, h in enumerate(hashes)]


def test_vpdq_videos_match_by_the_frame_rule() -> None:
    rng = np.random.default_rng(9)
    frames = [balanced_pdq(rng) for _ in range(10)]
    source = ListSource()
    source.upsert(BankRecord(1, "vpdq", format_vpdq_text(_video(frames)), ("v",)))
    other = [balanced_pdq(rng) for _ in range(10)]
    source.upsert(BankRecord(2, "vpdq", format_vpdq_text(_video(other)), ("o",)))
    matcher = Matcher(source)
    matcher.refresh()
    assert matcher.counts()["vpdq"] == 2
    # A re-encode: every frame a few bits off.
    copy = _video([flip_pdq(h, 6, rng) for h in frames])
    (found,) = matcher.match_vpdq([copy])
    assert (found.key, found.case_refs) == (1, ("v",))
    assert found.detail == {"query_percent": 100.0, "target_percent": 100.0}
    # A clip holding 7 of the 10 frames: under 80% of the bank video's frames, no match.
    assert matcher.match_vpdq([copy[:7]]) == []
    assert matcher.match_vpdq([copy[:8]])[0].key == 1
    # Low-quality frames are ignored on the query side.
    assert matcher.match_vpdq([_video(frames, quality=10)]) == []


def test_the_matcher_agrees_with_the_registrys_match_rules() -> None:
    """Brute force over every (query, bank) pair with each type's own rule (the registry's
    ``compare``) finds exactly what the matcher's indexes find, for every signal type."""
    rng = np.random.default_rng(21)
    source = ListSource()
    pdq_bank = [balanced_pdq(rng) for _ in range(40)]
    md5_bank = [f"{i:032x}" for i in range(1, 6)]
    video_frames = [[balanced_pdq(rng) for _ in range(10)] for _ in range(4)]
    video_bank = [format_vpdq_text(_video(frames)) for frames in video_frames]
    key = 0
    keys: dict[str, dict[int, str]] = {"pdq": {}, "md5": {}, "vpdq": {}}
    for kind, values in (("pdq", pdq_bank), ("md5", md5_bank), ("vpdq", video_bank)):
        for value in values:
            key += 1
            keys[kind][key] = value
            source.upsert(BankRecord(key, kind, value, (f"ref-{key}",)))
    matcher = Matcher(source)
    matcher.refresh()

    pdq_queries = [
        flip_pdq(pdq_bank[i], int(d), rng) for i, d in enumerate(rng.integers(0, 50, 40))
    ]
    found = {
        (m.query, m.key, m.distance) for m in matcher.match_pdq([PdqQuery(q) for q in pdq_queries])
    }
    expected = {
        (qi, k, PDQ.compare(q, v).distance)
        for qi, q in enumerate(pdq_queries)
        for k, v in keys["pdq"].items()
        if PDQ.compare(q, v).match
    }
    assert found == expected and len(expected) >= 15

    md5_queries = [md5_bank[1].upper(), "f" * 32, md5_bank[4]]
    found = {(m.query, m.key) for m in matcher.match_md5(md5_queries)}
    assert found == {
        (qi, k)
        for qi, q in enumerate(md5_queries)
        for k, v in keys["md5"].items()
        if MD5.compare(q, v).match
    }
    assert len(found) == 2

    clips = [
        [flip_pdq(h, 5, rng) for h in frames[:n]]
        for frames, n in zip(video_frames, (10, 9, 7, 3), strict=True)
    ]
    found = {(m.query, m.key) for m in matcher.match_vpdq([_video(c) for c in clips])}
    expected = {
        (qi, k)
        for qi, clip in enumerate(clips)
        for k, v in keys["vpdq"].items()
        if VPDQ.compare(format_vpdq_text(_video(clip)), v).match
    }
    assert found == expected and len(expected) == 2


def test_match_file_finds_mirrored_copies(tmp_path: Path, testdata: Path) -> None:
    from PIL import Image, ImageOps

    from openncii import hash_file

    photo = testdata / "photos" / "mate_garden.jpg"
    original = hash_file(photo)
    assert original.pdq is not None
    source = ListSource()
    source.upsert(BankRecord(1, "pdq", original.pdq, ("case-ref",)))
    matcher = Matcher(source)
    matcher.refresh()
    mirrored = tmp_path / "mirror.png"
    with Image.open(photo) as image:
        ImageOps.mirror(image.convert("RGB")).save(mirrored)
    # The mirror's own hash is far from the original; one of its dihedral variants is near.
    assert (
        PdqHash.from_hex(hash_file(mirrored).pdq or "").distance(PdqHash.from_hex(original.pdq))
        > 31
    )
    hashes, matches = matcher.match_file(mirrored)
    assert hashes.media == "image"
    assert [(m.signal, m.key) for m in matches] == [("pdq", 1)]
    assert matches[0].distance <= 10


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    steps=st.lists(st.tuples(st.sampled_from(["add", "remove"]), st.integers(1, 40)), max_size=40),
)
def test_incremental_bank_equals_a_fresh_one(seed: int, steps: list[tuple[str, int]]) -> None:
    """Any sequence of upserts and removals, refreshed step by step, leaves the matcher
    answering exactly as a matcher built once from the final bank."""
    rng = np.random.default_rng(seed)
    source = ListSource()
    # A small rebuild limit sends some refreshes down the snapshot-and-swap path.
    live = Matcher(source, rebuild_after=1 + seed % 8)
    values: dict[int, str] = {}
    for action, key in steps:
        if action == "add":
            values[key] = balanced_pdq(rng)
            source.upsert(BankRecord(key, "pdq", values[key], (str(key),)))
        else:
            values.pop(key, None)
            source.remove(key)
        if rng.random() < 0.5:
            live.refresh()
    live.refresh()
    fresh = Matcher(source)
    fresh.refresh()
    queries = [PdqQuery(flip_pdq(v, 10, rng)) for v in values.values()] + [
        PdqQuery(balanced_pdq(rng))
    ]
    assert live.match_pdq(queries) == fresh.match_pdq(queries)
    assert live.counts()["pdq"] == len(values)


def _wait_for_another_answer(answers: list[int]) -> None:
    seen = answers[0]
    deadline = time.monotonic() + 60
    while answers[0] == seen:
        assert time.monotonic() < deadline, "the readers stopped answering"
        time.sleep(0.001)


def test_answers_continue_while_the_bank_refreshes() -> None:
    """Searches from other threads during refreshes and rebuilds always see a whole state:
    a hash that is never withdrawn is always found."""
    rng = np.random.default_rng(21)
    source = ListSource()
    steady = balanced_pdq(rng)
    source.upsert(BankRecord(1, "pdq", steady, ("s",)))
    matcher = Matcher(source, rebuild_after=50)
    matcher.refresh()
    stop = threading.Event()
    misses: list[int] = []
    answers = [0]

    def ask() -> None:
        while not stop.is_set():
            found = matcher.match_pdq([PdqQuery(steady)])
            answers[0] += 1
            if [m.key for m in found] != [1]:
                misses.append(len(found))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for key in range(2, 400):
            source.upsert(BankRecord(key, "pdq", balanced_pdq(rng), ()))
            if key % 3 == 0:
                source.remove(key - 1)
            if key % 10 == 0:
                matcher.refresh()
                _wait_for_another_answer(answers)  # the readers really ask between refreshes
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    matcher.refresh()
    assert misses == []
    assert answers[0] > 10
    assert matcher.counts()["pdq"] == 1 + len(range(2, 400)) - len(range(3, 400, 3))


def test_match_file_finds_a_reencoded_video_by_vpdq(testdata: Path) -> None:
    from openncii import hash_file

    videos = testdata / "videos"
    enrolled = hash_file(videos / "carphone_pristine.mp4")
    assert enrolled.vpdq
    source = ListSource()
    source.upsert(BankRecord(1, "md5", enrolled.md5, ("case-md5",)))
    signature = format_vpdq_text(
        VpdqFeature(f.frame, f.quality, f.pdq, f.timestamp) for f in enrolled.vpdq
    )
    source.upsert(BankRecord(2, "vpdq", signature, ("case-vpdq",)))
    matcher = Matcher(source)
    matcher.refresh()
    # The same file: MD5 and vPDQ both match.
    _, same = matcher.match_file(videos / "carphone_pristine.mp4")
    assert sorted((m.signal, m.key) for m in same) == [("md5", 1), ("vpdq", 2)]
    # A distorted re-encode: a different file (no MD5 match), the same frames (vPDQ match).
    _, distorted = matcher.match_file(videos / "carphone_distorted.mp4")
    assert [(m.signal, m.case_refs) for m in distorted] == [("vpdq", ("case-vpdq",))]
    assert distorted[0].detail["query_percent"] >= 80
    # Another video: nothing.
    _, other = matcher.match_file(videos / "bikes.mp4")
    assert other == []


# ---------------------------------------------------------------------------------------------
# Robust matching: each bank row's kind comes from its signal type


def test_variant_rows_match_by_the_pair_rule_of_their_kinds(tmp_path: Path) -> None:
    """A store holding a photo's hashes of every kind (as the feed sends them with
    ``variants=1``): the matcher keeps a hit only when ``pair_threshold`` allows its pair of
    kinds at its distance, both from the snapshot and from later changes."""
    from openncii.partner import PartnerStore
    from openncii.partner.matcher import StoreBank
    from openncii.partner.store import BANK_KINDS, bank_kind
    from openncii.signals.variants import Kind, PdqVariant
    from partner_helpers import feed_record, store_page

    rng = np.random.default_rng(11)
    full, square, strip, trim = (balanced_pdq(rng) for _ in range(4))
    with PartnerStore.open(tmp_path / "store.sqlite3") as store:
        store_page(
            store,
            [
                feed_record("ImagePDQ", full),
                feed_record("ImagePDQSquare", square),
                feed_record("ImagePDQStrip", strip),
            ],
        )
        bank = store.pdq_bank()
        assert [BANK_KINDS[k] for k in bank.kinds] == [Kind.FULL, Kind.SQUARE, Kind.STRIP]
        assert store.pdq_codes()[0].shape == (1, 32)  # pdq_codes: the whole-image rows only
        assert [bank_kind(t) for t in ("pdq", "pdq_square", "pdq_trim", "md5")] == [
            Kind.FULL,
            Kind.SQUARE,
            Kind.TRIM,
            None,
        ]
        matcher = Matcher(StoreBank(store))
        matcher.refresh()

        def found(kind: Kind, value: str) -> list[tuple[str, int]]:
            hits = matcher.match_variants([[PdqVariant(value, kind, 90)]])
            return [(m.signal, m.distance) for m in hits]

        assert found(Kind.SQUARE, flip_pdq(square, 24, rng)) == [("pdq_square", 24)]
        assert found(Kind.SQUARE, flip_pdq(square, 25, rng)) == []
        assert found(Kind.STRIP, flip_pdq(strip, 20, rng)) == [("pdq_strip", 20)]
        assert found(Kind.STRIP, flip_pdq(strip, 21, rng)) == []
        assert found(Kind.DIHEDRAL, flip_pdq(full, 31, rng)) == [("pdq", 31)]
        assert found(Kind.FULL, flip_pdq(full, 32, rng)) == []
        # Never compared: a square with a whole picture, a strip with a square, ...
        assert found(Kind.SQUARE, full) == []
        assert found(Kind.FULL, square) == []
        assert found(Kind.STRIP, square) == []
        # A bare PDQ query is a whole picture: it meets full and trim rows, never a square.
        assert [m.signal for m in matcher.match_pdq([PdqQuery(square)])] == []
        assert [m.signal for m in matcher.match_pdq([PdqQuery(full)])] == ["pdq"]

        # Changes after the snapshot carry their kinds too; withdrawal removes the rows.
        store_page(store, [feed_record("ImagePDQTrim", trim)])
        matcher.refresh()
        assert found(Kind.TRIM, flip_pdq(trim, 30, rng)) == [("pdq_trim", 30)]
        assert found(Kind.SQUARE, trim) == []
        store_page(
            store,
            [
                feed_record("ImagePDQSquare", square, "Withdrawn"),
                feed_record("ImagePDQTrim", trim, "Withdrawn"),
            ],
        )
        matcher.refresh()
        assert found(Kind.SQUARE, square) == []
        assert found(Kind.FULL, trim) == []
        assert found(Kind.FULL, full) == [("pdq", 0)]
