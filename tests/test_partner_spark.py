"""The Spark engine in local mode, on real photos: the same matches as the process scan, hash
once and re-match on bank changes, error rows, and clear errors before any work.

One Spark session for the module (starting one costs seconds to a minute). Needs the ``spark``
extra and a Java runtime: skipped with a message outside CI when either is missing, a failure
in CI (``.ci/run`` installs both).
"""

from __future__ import annotations

import importlib.util
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageOps

from openncii import hash_file
from openncii.errors import ScanSetupError
from openncii.partner import PartnerStore
from openncii.partner.bank import bank_data_from_source
from openncii.partner.bankfile import write_bank
from openncii.partner.matcher import StoreBank
from openncii.partner.scan import ScanResult, scan
from openncii.testing import skip_or_fail
from partner_helpers import feed_record, store_page

pytestmark = pytest.mark.slow

ENROLLED = ["mate_garden.jpg", "opencv_fruits.jpg", "opencv_baboon.jpg"]
UNRELATED = ["mate_aqua.jpg", "opencv_building.jpg", "mate_dune.jpg"]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if importlib.util.find_spec("pyspark") is None:
        skip_or_fail("the Spark tests need PySpark: pip install 'openncii[spark]'")
    if shutil.which("java") is None:
        skip_or_fail(
            "the Spark tests need a Java runtime (apt-get install openjdk-17-jre-headless)"
        )
    from openncii.partner.spark import spark_session

    session = spark_session("local[2]", app_name="openncii-tests", progress=False)
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="module")
def corpus(testdata: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Edited copies of the enrolled photos, unrelated photos and broken files."""
    folder = tmp_path_factory.mktemp("corpus")
    for name in ENROLLED:
        with Image.open(testdata / "photos" / name) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
        image.resize((image.width // 2, image.height // 2)).save(folder / f"{name}-small.png")
        ImageOps.mirror(image).save(folder / f"{name}-mirror.jpg", quality=80)
        ImageOps.pad(image, (image.width, image.height * 3 // 2)).save(folder / f"{name}-box.jpg")
    for name in UNRELATED:
        shutil.copy(testdata / "photos" / name, folder / name)
    data = (testdata / "photos" / "opencv_fruits.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(data[:500])
    (folder / "random.jpg").write_bytes(bytes(range(256)) * 20)
    (folder / "notes.txt").write_text("not media")
    (folder / "empty.png").write_bytes(b"")
    return {"folder": folder, "photos": testdata / "photos"}


def _store(path: Path, photos: Path) -> PartnerStore:
    store = PartnerStore.open(path)
    store_page(
        store,
        [
            feed_record("ImagePDQ", hash_file(photos / name).pdq or "", ref=f"ref-{i}")
            for i, name in enumerate(ENROLLED)
        ],
    )
    return store


def _comparable(results: list[ScanResult]) -> dict[str, Any]:
    return {
        r.path: (
            r.media,
            r.quality,
            [(m.signal, m.key, m.hash, m.distance, m.case_refs) for m in r.matches],
            r.error,
            r.skipped,
        )
        for r in results
    }


def test_spark_matches_equal_the_process_scan_from_paths_and_from_a_table(
    spark: Any, corpus: dict[str, Path], tmp_path: Path
) -> None:
    from openncii.partner.spark import scan_with_spark

    folder = corpus["folder"]
    store = _store(tmp_path / "p.sqlite3", corpus["photos"])
    try:
        files = sorted(folder.iterdir())
        expected = _comparable(scan(StoreBank(store), files, workers=1))
        matched = {p for p, v in expected.items() if v[2]}
        assert matched == {
            str(folder / f"{n}-{e}")
            for n in ENROLLED
            for e in ("small.png", "mirror.jpg", "box.jpg")
        }
        # A bank no process has seen yet (an MD5 of this run), sent to the executors as a
        # file, as on a cluster; then mapped from the bank cache folder (local mode).
        store_page(store, [feed_record("MD5", uuid.uuid4().hex, ref="ref-md5")])
        shipped = scan_with_spark(StoreBank(store), [str(folder)], spark=spark, ship_bank=True)
        assert _comparable(shipped) == expected
        from_paths = scan_with_spark(StoreBank(store), [str(folder)], spark=spark)
        assert _comparable(from_paths) == expected
        # The same from a Parquet table of URIs (file:// URIs, ids of our own).
        import pyarrow as pa
        import pyarrow.parquet as pq

        uris = [p.as_uri() for p in files]
        pq.write_table(
            pa.table({"id": [str(p) for p in files], "uri": uris}), tmp_path / "t.parquet"
        )
        from_table = scan_with_spark(StoreBank(store), [str(tmp_path / "t.parquet")], spark=spark)
        assert _comparable(from_table) == expected
        errors = {Path(r.path).name for r in from_table if r.failed}
        assert errors == {"truncated.jpg", "random.jpg", "empty.png"}
        assert [Path(r.path).name for r in from_table if r.skipped] == ["notes.txt"]
    finally:
        store.close()


def test_hash_once_then_rematch_only_the_bank_changes(
    spark: Any, corpus: dict[str, Path], tmp_path: Path
) -> None:
    from openncii.partner.spark import hash_images, match_hashes, rematch

    photos = corpus["photos"]
    media = tmp_path / "media"
    shutil.copytree(corpus["folder"], media)
    store = _store(tmp_path / "p.sqlite3", photos)
    try:
        write_bank(bank_data_from_source(StoreBank(store)), tmp_path / "bank-1.parquet")
        rows = [(str(p), str(p)) for p in sorted(media.iterdir())]
        frame = spark.createDataFrame(rows, "id string, uri string").repartition(2)
        hash_images(frame, uri_col="uri", id_col="id").write.parquet(str(tmp_path / "hashes"))
        hashes = spark.read.parquet(str(tmp_path / "hashes"))
        assert hashes.count() == len(rows)  # one row per item, errors included
        match_hashes(hashes, tmp_path / "bank-1.parquet").write.parquet(str(tmp_path / "m1"))
        # A sync: a new case (an unrelated photo) and a withdrawal (the fruits).
        store_page(
            store,
            [
                feed_record("ImagePDQ", hash_file(photos / "mate_dune.jpg").pdq or "", ref="r-new"),
                feed_record(
                    "ImagePDQ",
                    hash_file(photos / "opencv_fruits.jpg").pdq or "",
                    status="Withdrawn",
                    ref="ref-1",
                ),
            ],
        )
        write_bank(bank_data_from_source(StoreBank(store)), tmp_path / "bank-2.parquet")
        shutil.rmtree(media)  # re-matching must not read a single image
        again = rematch(
            hashes,
            spark.read.parquet(str(tmp_path / "m1")),
            tmp_path / "bank-1.parquet",
            tmp_path / "bank-2.parquet",
        )
        found = {(r["id"], r["bank_key"], r["distance"]) for r in again.collect()}
        full = match_hashes(hashes, tmp_path / "bank-2.parquet")
        assert found == {(r["id"], r["bank_key"], r["distance"]) for r in full.collect()}
        names = {Path(i).name for i, _, _ in found}
        assert "mate_dune.jpg" in names
        assert not any(n.startswith("opencv_fruits") for n in names)
        assert any(n.startswith("mate_garden") for n in names)
        # Nothing the cluster wrote holds a case reference.
        written = b"".join(p.read_bytes() for p in tmp_path.rglob("*.parquet"))
        assert b"ref-" not in written and b"r-new" not in written
    finally:
        store.close()


def test_unusable_inputs_are_refused_before_any_work(
    spark: Any, corpus: dict[str, Path], tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from openncii.partner.spark import hash_images, match_hashes, scan_with_spark

    store = _store(tmp_path / "p.sqlite3", corpus["photos"])
    try:
        hashes = spark.createDataFrame([("a", "/x.jpg")], "id string, uri string")
        with pytest.raises(ScanSetupError, match="no bank file"):
            match_hashes(hashes, tmp_path / "missing.parquet")
        table = pq.read_table(_bank(store, tmp_path))
        meta = dict(table.schema.metadata)
        old = table.replace_schema_metadata({**meta, b"openncii.bank.format": b"0"})
        pq.write_table(old, tmp_path / "old.parquet")
        with pytest.raises(ScanSetupError, match="format 0"):
            match_hashes(hashes, tmp_path / "old.parquet")
        with pytest.raises(ScanSetupError, match="no column 'path'"):
            hash_images(hashes, uri_col="path")
        with pytest.raises(ScanSetupError, match="no such file or folder"):
            scan_with_spark(StoreBank(store), [str(tmp_path / "nowhere")], spark=spark)
        pq.write_table(pa.table({"url": ["x"]}), tmp_path / "t.parquet")
        with pytest.raises(ScanSetupError, match="no 'uri' column"):
            scan_with_spark(StoreBank(store), [str(tmp_path / "t.parquet")], spark=spark)
    finally:
        store.close()


def _bank(store: PartnerStore, folder: Path) -> Path:
    path = folder / "bank.parquet"
    write_bank(bank_data_from_source(StoreBank(store)), path)
    return path


def test_the_command_line_scans_with_spark_and_writes_the_same_reports(
    spark: Any, corpus: dict[str, Path], tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    from openncii.testing import run_openncii

    del spark  # the command starts its own session; the fixture only checks Spark is here
    folder = tmp_path / "few"
    folder.mkdir()
    for name in ("opencv_fruits.jpg-mirror.jpg", "mate_aqua.jpg", "random.jpg", "notes.txt"):
        shutil.copy(corpus["folder"] / name, folder / name)
    _store(tmp_path / "p.sqlite3", corpus["photos"]).close()
    common = ("--store", str(tmp_path / "p.sqlite3"))
    by_engine = {}
    for engine, report in (("spark", "s.json"), ("process", "p.json")):
        done = run_openncii(
            "partner", "scan", str(folder), *common, "--engine", engine, "--report",
            str(tmp_path / report), timeout=900,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr  # random.jpg could not be hashed
        assert "1 matched, 1 could not be hashed, 1 skipped" in done.stderr
        by_engine[engine] = (tmp_path / report).read_text("utf-8")
    assert by_engine["spark"] == by_engine["process"]
    # A Parquet report (the same writer for both engines), from a glob.
    done = run_openncii(
        "partner", "scan", str(folder / "*.jpg"), *common, "--report", str(tmp_path / "r.parquet")
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    rows = pq.read_table(tmp_path / "r.parquet").to_pylist()
    assert {(Path(r["path"]).name, r["case_refs"] and tuple(r["case_refs"])) for r in rows} == {
        ("opencv_fruits.jpg-mirror.jpg", ("ref-1",)),
        ("random.jpg", None),
    }
