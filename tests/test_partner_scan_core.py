"""The engine-neutral scan core (rules, bank, bank files, batches) and the process-based scan,
on real photos and videos: what `partner scan` and the Spark job share."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

import openncii.media.images
import openncii.partner.bank as bank_module
from openncii import hash_bytes, hash_file, query_file
from openncii.errors import ScanSetupError, UnsupportedMediaError
from openncii.hashing import hash_and_query_file
from openncii.index import PDQIndex, codes_from_hex
from openncii.partner import PartnerStore
from openncii.partner.bank import Bank, BankData, bank_data_from_source, open_bank
from openncii.partner.bankfile import (
    bank_delta,
    bank_table,
    read_bank,
    read_bank_info,
    write_bank,
)
from openncii.partner.batch import (
    hash_item,
    hash_items,
    items_from_batch,
    items_to_batch,
    match_items,
    rematch_items,
)
from openncii.partner.matcher import BankRecord, StoreBank
from openncii.partner.rules import pair_limit, query_hashes
from openncii.partner.scan import scan, totals
from openncii.signals.variants import Kind
from partner_helpers import feed_record, store_page

ENROLLED = ["mate_garden.jpg", "opencv_fruits.jpg", "opencv_baboon.jpg"]
UNRELATED = ["mate_aqua.jpg", "opencv_building.jpg", "matplotlib_grace_hopper.jpg"]


def _copies(photo: Path, folder: Path) -> list[Path]:
    """A resized, a recompressed, a mirrored and a cropped copy of ``photo``."""
    with Image.open(photo) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    out = []
    for name, edited, fmt in (
        ("resized.png", image.resize((image.width // 2, image.height // 2)), "PNG"),
        ("q35.jpg", image, "JPEG"),
        ("mirrored.jpg", ImageOps.mirror(image), "JPEG"),
        ("letterboxed.jpg", ImageOps.pad(image, (image.width, image.height * 3 // 2)), "JPEG"),
    ):
        path = folder / f"{photo.stem}-{name}"
        edited.save(path, fmt, quality=35 if name == "q35.jpg" else 85)
        out.append(path)
    return out


@pytest.fixture
def corpus(testdata: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder of edited copies (path -> enrolled photo), unrelated photos and bad files."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    copies = {
        str(copy): name for name in ENROLLED for copy in _copies(testdata / "photos" / name, folder)
    }
    for name in UNRELATED:
        shutil.copy(testdata / "photos" / name, folder / name)
    fruit = (testdata / "photos" / "opencv_fruits.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(fruit[:400])
    (folder / "random.jpg").write_bytes(np.random.default_rng(7).bytes(5000))
    (folder / "notes.txt").write_text("not media")
    shutil.copy(testdata / "videos" / "carphone_pristine.mp4", folder / "clip.mp4")
    return folder, copies


@pytest.fixture
def store(testdata: Path, tmp_path: Path) -> PartnerStore:
    """A partner store holding the PDQ of the enrolled photos and the clip's MD5."""
    store = PartnerStore.open(tmp_path / "partner.sqlite3")
    records = [
        feed_record("ImagePDQ", hash_file(testdata / "photos" / name).pdq or "", ref=f"ref-{i}")
        for i, name in enumerate(ENROLLED)
    ]
    clip = hash_file(testdata / "videos" / "carphone_pristine.mp4")
    records.append(feed_record("VideoMD5", clip.md5, ref="ref-clip"))
    store_page(store, records)
    return store


# ------------------------------------------------------------------------------- index files


def test_a_saved_index_maps_back_and_answers_the_same(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (6000, 32), dtype=np.uint8)
    index = PDQIndex.build(codes)
    index.remove([4, 9])
    index.add(codes[:5])
    queries = codes[:40].copy()
    queries[:, :2] ^= 0x11
    expected = index.search(queries, 31)
    index.save(tmp_path / "x.pdq")
    mapped = PDQIndex.load(tmp_path / "x.pdq")
    assert isinstance(mapped._base, np.memmap)
    assert mapped.search(queries, 31) == expected
    assert PDQIndex.load(tmp_path / "x.pdq", mmap=False).search(queries, 31) == expected
    assert (len(mapped), mapped.n_tables) == (len(index), index.n_tables)
    # A mapped index still changes in memory; the file does not.
    mapped.remove([0])
    assert mapped.search(codes[:1], 0) == [[(6000, 0)]]
    assert int(mapped.add(codes[:1])[0]) == 6005
    assert mapped.search(codes[:1], 0) == [[(6000, 0), (6005, 0)]]
    assert PDQIndex.load(tmp_path / "x.pdq").search(codes[:1], 0) == [[(0, 0), (6000, 0)]]


def test_loading_a_file_that_is_no_index_says_so(tmp_path: Path) -> None:
    (tmp_path / "x.pdq").write_bytes(b"hello" * 20)
    with pytest.raises(ValueError, match="not a saved PDQ index"):
        PDQIndex.load(tmp_path / "x.pdq")


# ---------------------------------------------------------------------------------- hashing


def test_hash_bytes_is_hash_file_on_the_same_bytes(testdata: Path) -> None:
    for path in (testdata / "photos" / "opencv_fruits.jpg", testdata / "videos" / "bikes.mp4"):
        from_bytes = hash_bytes(path.read_bytes(), dihedral=True, name="upload")
        assert from_bytes.path == "upload"
        assert from_bytes.to_json() | {"path": ""} == hash_file(path, True).to_json() | {"path": ""}
    with pytest.raises(UnsupportedMediaError):
        hash_bytes(b"just text")


def test_one_decode_gives_the_hashes_and_the_query_variants(testdata: Path) -> None:
    path = testdata / "photos" / "mate_storm.jpg"
    hashes, variants = hash_and_query_file(path)
    assert hashes == hash_file(path, dihedral=True)
    assert variants == query_file(path)
    video, none = hash_and_query_file(testdata / "videos" / "bikes.mp4")
    assert (video.media, none) == ("video", [])


def test_bad_files_become_error_items_and_only_non_media_is_skipped(
    corpus: tuple[Path, dict[str, str]],
) -> None:
    folder, _ = corpus
    items = {Path(i.id).name: i for i in hash_items((str(p), None) for p in folder.iterdir())}
    assert items["truncated.jpg"].failed
    # Random bytes named .jpg: a broken image, not "not media" (issue 13).
    assert items["random.jpg"].failed and not items["random.jpg"].skipped
    assert items["notes.txt"].skipped and not items["notes.txt"].failed
    assert items["clip.mp4"].media == "video" and items["clip.mp4"].vpdq
    missing = hash_item("/no/such/file.jpg")
    assert missing.failed and "no such file" in (missing.error or "")
    # Arrow batches carry every field both ways.
    assert items_from_batch(items_to_batch(list(items.values()))) == list(items.values())


# ------------------------------------------------------------------------------------ rules


def test_the_query_set_has_each_hash_once_per_kind() -> None:
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    got = query_hashes(a, [a, b, a], [a, c, c], ["full", "square", "square"])
    assert got == [(a, Kind.FULL), (b, Kind.DIHEDRAL), (a, Kind.DIHEDRAL), (c, Kind.SQUARE)]
    assert query_hashes(None, [a, b], [c], ["strip"]) == [(c, Kind.STRIP)]


def test_pair_limits_follow_the_pair_rule_and_the_threshold_only_lowers_them() -> None:
    assert pair_limit("dihedral", "full", 31) == 31
    assert pair_limit("square", "square", 31) == 24
    assert pair_limit("square", "full", 31) is None
    assert pair_limit("full", "trim", 20) == 20
    assert pair_limit("strip", "strip", 30) == 20
    assert pair_limit("strip", "strip", 18) == 18


# ------------------------------------------------------------------------------------- bank


def test_the_checksum_names_the_content_whatever_the_order() -> None:
    codes = codes_from_hex(["1" * 64, "2" * 64])
    md5 = BankRecord(9, "md5", "3" * 32, ("ref",))
    one = BankData.create([5, 7], codes, ["full", "square"], [md5], 1)
    two = BankData.create([7, 5], codes[::-1], ["square", "full"], [md5], 1)
    assert one.checksum == two.checksum
    assert one.others[0].case_refs == ()  # a bank holds no case references
    assert BankData.create([5, 7], codes, ["full", "full"], [md5], 1).checksum != one.checksum
    with pytest.raises(ValueError, match="unknown PDQ kind"):
        BankData.create([5], codes[:1], ["corner"], [], 1)


def test_each_process_builds_a_bank_once_and_maps_the_saved_copy(
    store: PartnerStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = bank_data_from_source(StoreBank(store))
    monkeypatch.setattr(bank_module, "_banks", {})
    reads: list[int] = []

    def read() -> BankData:
        reads.append(1)
        return data

    first = open_bank(data.checksum, read, tmp_path / "cache")
    assert open_bank(data.checksum, read, tmp_path / "cache") is first
    assert len(reads) == 1
    assert isinstance(first.index._base, np.memmap)  # mapped from the saved file
    # Another process (an empty cache here) maps the saved copy without reading the bank.
    monkeypatch.setattr(bank_module, "_banks", {})
    again = open_bank(data.checksum, read, tmp_path / "cache")
    assert len(reads) == 1 and again is not first and len(again) == len(first)


# -------------------------------------------------------------------------------- bank files


def test_a_bank_file_holds_no_case_reference_and_reads_back(
    store: PartnerStore, tmp_path: Path
) -> None:
    data = bank_data_from_source(StoreBank(store))
    write_bank(data, tmp_path / "bank.parquet")
    raw = (tmp_path / "bank.parquet").read_bytes()
    assert b"ref-" not in raw
    info = read_bank_info(tmp_path / "bank.parquet")
    assert (info.checksum, info.counts) == (data.checksum, {"pdq": 3, "md5": 1, "vpdq": 0})
    back = read_bank(tmp_path / "bank.parquet")
    assert back.checksum == data.checksum
    assert np.array_equal(back.pdq_codes, data.pdq_codes)
    assert bank_table(data).column_names == ["bank_key", "signal_type", "kind", "code"]


def test_a_missing_damaged_or_foreign_bank_file_is_refused_before_work(
    store: PartnerStore, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    with pytest.raises(ScanSetupError, match="no bank file"):
        read_bank_info(tmp_path / "nope.parquet")
    table = bank_table(bank_data_from_source(StoreBank(store)))
    meta = dict(table.schema.metadata)
    newer = table.replace_schema_metadata({**meta, b"openncii.bank.format": b"2"})
    pq.write_table(newer, tmp_path / "newer.parquet")
    with pytest.raises(ScanSetupError, match="format 2"):
        read_bank_info(tmp_path / "newer.parquet")
    pq.write_table(table.replace_schema_metadata({}), tmp_path / "plain.parquet")
    with pytest.raises(ScanSetupError, match="not an OpenNCII bank"):
        read_bank(tmp_path / "plain.parquet")
    altered = table.replace_schema_metadata({**meta, b"openncii.bank.checksum": b"0" * 64})
    pq.write_table(altered, tmp_path / "altered.parquet")
    with pytest.raises(ScanSetupError, match="checksum"):
        read_bank(tmp_path / "altered.parquet")
    (tmp_path / "text.parquet").write_text("hello")
    with pytest.raises(ScanSetupError, match="not an OpenNCII bank"):
        read_bank_info(tmp_path / "text.parquet")


# ----------------------------------------------------------------------- matching, re-matching


def test_the_core_finds_every_copy_and_nothing_unrelated(
    store: PartnerStore, corpus: tuple[Path, dict[str, str]], testdata: Path
) -> None:
    folder, copies = corpus
    bank = Bank.build(bank_data_from_source(StoreBank(store)))
    items = hash_items((str(p), None) for p in sorted(folder.iterdir()))
    found = match_items(bank, items)
    pdq = {m.id for m in found if m.signal == "pdq"}
    assert pdq == set(copies)
    assert {m.id for m in found if m.signal == "md5"} == {str(folder / "clip.mp4")}
    letterboxed = [m for m in found if m.id.endswith("letterboxed.jpg")]
    assert {m.query_kind for m in letterboxed} == {"trim"}  # only a robust variant finds it
    # Without the variants only the whole picture and its rotations and mirrorings are tried.
    plain = match_items(
        bank, hash_items([(str(p), None) for p in sorted(folder.iterdir())], variants=False)
    )
    assert {m.id for m in plain if m.signal == "pdq"} == set(copies) - {m.id for m in letterboxed}


def test_rematching_stored_hashes_decodes_nothing(
    store: PartnerStore,
    corpus: tuple[Path, dict[str, str]],
    testdata: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, _ = corpus
    items = hash_items((str(p), None) for p in sorted(folder.iterdir()))
    old = bank_data_from_source(StoreBank(store))
    before = match_items(Bank.build(old), items)
    # The bank changes: a new case (an unrelated photo), and the fruits' case is withdrawn.
    fruits = hash_file(testdata / "photos" / "opencv_fruits.jpg").pdq or ""
    aqua = hash_file(testdata / "photos" / "mate_aqua.jpg").pdq or ""
    store_page(
        store,
        [
            feed_record("ImagePDQ", aqua, ref="ref-new"),
            feed_record("ImagePDQ", fruits, status="Withdrawn", ref="ref-1"),
        ],
    )
    new = bank_data_from_source(StoreBank(store))
    delta = bank_delta(old, new)
    assert (len(delta.added), len(delta.removed)) == (1, 1)
    decodes: list[Path] = []
    real = openncii.media.images.decode_image
    monkeypatch.setattr(
        openncii.media.images, "decode_image", lambda p, **k: decodes.append(p) or real(p, **k)
    )
    after = rematch_items(Bank.build(delta.added), delta.removed, items, before)
    assert decodes == []
    full = match_items(Bank.build(new), items)
    key = lambda m: (m.id, m.signal, m.bank_key, m.distance)  # noqa: E731
    assert sorted(after, key=key) == sorted(full, key=key)
    ids = {m.id for m in after if m.signal == "pdq"}
    assert str(folder / "mate_aqua.jpg") in ids
    assert not any("opencv_fruits" in i for i in ids)


def test_many_queries_against_a_small_bank_find_the_same_pairs_either_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A re-match indexes the queries and searches them with the bank's codes: the same matches
    (distances, kinds, ties) as searching the bank's index with each query."""
    import openncii.partner.batch as batch_module
    from openncii.index import hex_from_codes
    from openncii.partner.batch import HashedItem

    rng = np.random.default_rng(14)
    codes = rng.integers(0, 256, (40, 26, 32), dtype=np.uint8)
    hexes = hex_from_codes(codes.reshape(-1, 32))
    kinds = ["square"] * 14 + ["strip"] * 2 + ["trim"] * 2
    items = [
        HashedItem(
            f"item-{i}",
            media="image",
            pdq=hexes[26 * i],
            quality=90,
            dihedral=tuple(hexes[26 * i : 26 * i + 8]),
            variants=tuple(hexes[26 * i + 8 : 26 * i + 26]),
            variant_kinds=tuple(kinds),
        )
        for i in range(40)
    ]
    # Bank records near some query hashes (1-40 bits flipped), of every kind, and unrelated ones.
    near = codes.reshape(-1, 32)[rng.choice(40 * 26, 60, replace=False)].copy()
    for row in near:
        bits = rng.choice(256, int(rng.integers(1, 41)), replace=False)
        for bit in bits:
            row[bit // 8] ^= 1 << (bit % 8)
    bank_codes = np.concatenate([near, near[:10], rng.integers(0, 256, (30, 32), np.uint8)])
    bank_kinds = [("full", "square", "strip", "trim")[i % 4] for i in range(len(bank_codes))]
    data = BankData.create(np.arange(1, len(bank_codes) + 1), bank_codes, bank_kinds, [], 1)
    bank = Bank.build(data)
    assert 4 * len(bank) <= 40 * 26  # the queries are indexed
    flipped = match_items(bank, items)
    monkeypatch.setattr(batch_module, "_FLIP_RATIO", 10**9)  # the bank's index is searched
    direct = match_items(bank, items)
    assert len(direct) >= 10
    assert flipped == direct


# ------------------------------------------------------------------------------ process scan


def test_the_process_scan_equals_the_one_process_scan_and_reports_video_progress(
    store: PartnerStore, corpus: tuple[Path, dict[str, str]]
) -> None:
    folder, copies = corpus
    files = sorted(folder.iterdir())
    seen: list[tuple[str, float]] = []
    inline = scan(StoreBank(store), files, workers=1, on_progress=lambda *e: seen.append(e))
    assert seen and seen[0] == (str(folder / "clip.mp4"), 0.0)
    pooled = scan(StoreBank(store), files, workers=2)
    assert pooled == inline
    assert [r.path for r in inline] == [str(p) for p in files]
    matched = {r.path: r for r in inline if r.matches}
    assert set(matched) == {*copies, str(folder / "clip.mp4")}
    refs = {m.case_refs for r in matched.values() for m in r.matches}
    assert refs == {("ref-0",), ("ref-1",), ("ref-2",), ("ref-clip",)}
    assert totals(inline) == {"scanned": len(files), "matched": 13, "failed": 2, "skipped": 1}
    assert json.dumps([r.error for r in inline if r.failed])  # the reasons are there
