"""``openncii hash``: JSON lines, the table, folders, and one clear line per bad file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from openncii.cli import app


@pytest.fixture
def media_dir(tmp_path: Path, testdata: Path) -> Path:
    """A folder with good images, a nested folder, bad files and a non-media file."""
    folder = tmp_path / "media"
    nested = folder / "nested"
    nested.mkdir(parents=True)
    pdq_data = testdata / "threatexchange/pdq/data"
    shutil.copy(pdq_data / "bridge-mods/aaa-orig.jpg", folder / "bridge.jpg")
    shutil.copy(pdq_data / "reg-test-input/labelme-subset/q0003.jpg", nested / "low.jpg")
    shutil.copy(pdq_data / "misc-images/c.png", nested / "c.png")
    (folder / "README.txt").write_text("not media, skipped when walking folders")
    (folder / ".hidden.jpg").write_bytes(b"")
    return folder


def _bad_files(tmp_path: Path, testdata: Path) -> list[Path]:
    bad = tmp_path / "bad"
    bad.mkdir()
    src = (testdata / "threatexchange/pdq/data/bridge-mods/aaa-orig.jpg").read_bytes()
    files = {
        "zero.jpg": b"",
        "truncated.jpg": src[: len(src) // 3],
        "random.jpg": np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8).tobytes(),
        "text.jpg": b"just some text, renamed\n",
        "doc.pdf": b"%PDF-1.4\n%%EOF\n",
    }
    paths = []
    for name, data in files.items():
        (bad / name).write_bytes(data)
        paths.append(bad / name)
    return paths


def _table_cells(table: str) -> list[list[str]]:
    """The text of each cell line of a rich table, without borders and padding."""
    return [
        [cell.strip().replace(" ", "") for cell in line.strip("│").split("│")]
        for line in table.splitlines()
        if line.startswith("│")
    ]


def _json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_json_output_for_a_folder(media_dir: Path) -> None:
    result = CliRunner().invoke(app, ["hash", "--json", str(media_dir)])
    assert result.exit_code == 0, result.output
    records = _json_lines(result.stdout)
    assert [Path(str(r["path"])).name for r in records] == ["bridge.jpg", "c.png", "low.jpg"]
    bridge = records[0]
    assert set(bridge) == {"path", "media", "md5", "pdq", "quality", "shareable"}
    assert bridge["pdq"] == "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    assert bridge["quality"] == 100
    low = records[2]
    assert low["quality"] == 3
    assert low["shareable"] is False


def test_dihedral_option(media_dir: Path) -> None:
    result = CliRunner().invoke(
        app, ["hash", "--json", "--dihedral", str(media_dir / "bridge.jpg")]
    )
    assert result.exit_code == 0
    (record,) = _json_lines(result.stdout)
    dihedral = record["dihedral"]
    assert isinstance(dihedral, list)
    assert len(dihedral) == 8
    assert dihedral[0] == record["pdq"]
    # What the help says: derived from the PDQ's DCT (the reference's variants), in its order.
    from openncii.signals.pdq import pdq_from_rgb

    with Image.open(media_dir / "bridge.jpg") as opened:
        pixels = np.asarray(opened.convert("RGB"))
    assert dihedral == [h.hex for h in pdq_from_rgb(pixels).dihedral()]
    help_text = CliRunner().invoke(app, ["hash", "--help"], terminal_width=200).output
    assert "derived from its PDQ's DCT" in " ".join(help_text.split())


def test_bad_files_get_one_line_each_and_the_rest_is_hashed(
    tmp_path: Path, testdata: Path, media_dir: Path
) -> None:
    bad = _bad_files(tmp_path, testdata)
    good = media_dir / "bridge.jpg"
    args = ["hash", "--json", *map(str, bad[:2]), str(good), *map(str, bad[2:])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    records = _json_lines(result.stdout)
    assert len(records) == len(bad) + 1
    errors = {Path(str(r["path"])).name: str(r["error"]) for r in records if "error" in r}
    assert set(errors) == {p.name for p in bad}
    assert errors["zero.jpg"] == "the file is empty (0 bytes)"
    assert "truncated or corrupt" in errors["truncated.jpg"]
    assert errors["random.jpg"].startswith("not a supported image or video format")
    assert errors["text.jpg"].startswith("not a supported image or video format")
    assert errors["doc.pdf"].startswith("not a supported image or video format")
    hashed = [r for r in records if "error" not in r]
    assert [Path(str(r["path"])).name for r in hashed] == ["bridge.jpg"]
    assert "Traceback" not in result.output


def test_table_output_and_errors_on_stderr(tmp_path: Path, testdata: Path, media_dir: Path) -> None:
    bad = _bad_files(tmp_path, testdata)[0]
    result = CliRunner().invoke(app, ["hash", str(media_dir), str(bad)])
    assert result.exit_code == 1
    # The table folds long cells over several lines: compare its text column by column.
    cells = ["".join(parts) for parts in zip(*_table_cells(result.stdout), strict=False)]
    assert "bridge.jpg" in cells[0]
    assert "(toolow:notshareable)" in cells[2]
    assert "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22" in "".join(cells)
    assert f"openncii: {bad}: the file is empty (0 bytes)" in result.stderr
    assert "zero.jpg" not in result.stdout


def test_missing_path_and_folder_given_as_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["hash", "--json", str(tmp_path / "missing.jpg")])
    assert result.exit_code == 1
    assert _json_lines(result.stdout) == [
        {"path": str(tmp_path / "missing.jpg"), "error": "no such file"}
    ]


def test_empty_folder_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["hash", str(tmp_path)])
    assert result.exit_code == 1
    assert "no media files found" in result.stderr


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_bad_video_fps_is_refused(media_dir: Path, value: str) -> None:
    result = CliRunner().invoke(app, ["hash", "--video-fps", value, str(media_dir)])
    assert result.exit_code == 2
    assert "--video-fps" in result.output


def test_a_pipe_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    result = CliRunner().invoke(app, ["hash", "--json", str(fifo)])
    assert result.exit_code == 1
    assert _json_lines(result.stdout) == [
        {"path": str(fifo), "error": "not a regular file (a folder, device or pipe)"}
    ]


def test_png_bomb_gives_a_clear_line(png_bomb: Path) -> None:
    result = CliRunner().invoke(app, ["hash", "--json", str(png_bomb)])
    assert result.exit_code == 1
    (record,) = _json_lines(result.stdout)
    assert "2500 megapixels" in str(record["error"])


def test_console_script_runs(media_dir: Path) -> None:
    """The installed entry point, as outside tools call it, keeps stdout to JSON only."""
    exe = Path(sys.executable).with_name("openncii")
    proc = subprocess.run(
        [str(exe), "hash", "--json", str(media_dir / "bridge.jpg")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    (record,) = _json_lines(proc.stdout)
    assert record["media"] == "image"
    assert proc.stderr == ""


def test_image_bytes_are_only_read(media_dir: Path) -> None:
    """Hashing leaves the files untouched (same bytes, same modification time)."""
    path = media_dir / "bridge.jpg"
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    CliRunner().invoke(app, ["hash", "--json", str(path)])
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    with Image.open(path) as image:
        assert image.size == (1600, 1004)


def test_video_fps_help_names_the_library_default() -> None:
    from openncii.hashing import DEFAULT_VIDEO_FPS

    shown = CliRunner().invoke(app, ["hash", "--help"], terminal_width=200)
    text = " ".join(shown.output.split())
    assert f"(0 = every frame; default: {DEFAULT_VIDEO_FPS:g})" in text


def test_variants_are_what_a_case_submits_and_what_a_platform_queries(testdata: Path) -> None:
    import openncii

    photo = testdata / "photos" / "mate_aqua.jpg"
    for flag, expected in (
        ("--variants", openncii.enroll_file(photo)),
        ("--query-variants", openncii.query_file(photo)),
    ):
        result = CliRunner().invoke(app, ["hash", "--json", flag, str(photo)])
        assert result.exit_code == 0, result.output
        record = json.loads(result.stdout)
        assert record["variants"] == [v.to_json() for v in expected]
    both = CliRunner().invoke(app, ["hash", "--variants", "--query-variants", str(photo)])
    assert both.exit_code == 2
