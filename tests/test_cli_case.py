"""``openncii case create/status/withdraw`` against a live server: files are hashed here, only the
hashes travel, and the PIN is only ever typed at a prompt."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import openncii
from openncii.cli import app
from openncii.testing import ServerProcess, start_server

runner = CliRunner()
YES_TO_ALL = "y\n" * 5


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One ``openncii serve`` on SQLite for the module (the CLI is the same on both backends)."""
    directory = tmp_path_factory.mktemp("cli-case")
    server = start_server(f"sqlite:///{directory / 'db.sqlite3'}", log_dir=directory)
    yield server
    server.stop()


def _run(args: list[str], stdin: str = "") -> Any:
    return runner.invoke(app, args, input=stdin, catch_exceptions=False)


def _open(server: ServerProcess | str, *files: Path) -> tuple[str, str, Any]:
    url = server if isinstance(server, str) else server.base_url
    result = _run(["case", "create", *map(str, files), "--server", url], YES_TO_ALL)
    assert result.exit_code == 0, result.output
    number = re.search(r"Case number: (\S+)", result.stdout)
    pin = re.search(r"PIN:\s+(\d{4}-\d{4}-\d{4}-\d{4})", result.stdout)
    assert number and pin, result.stdout
    return number.group(1), pin.group(1), result


def test_create_status_withdraw(live_server: ServerProcess, testdata: Path) -> None:
    photo = testdata / "photos" / "mate_aqua.jpg"
    enrolled = openncii.enroll_file(photo)
    number, pin, created = _open(live_server, photo, photo)
    assert "cannot be shown again" in created.stdout
    # The same file twice is sent once: one photo, with its robust-matching hashes.
    assert f"Photos and videos: 1 ({len(enrolled)} hashes)" in created.stdout
    assert "Left out: mate_aqua.jpg: it is the same file as one above: sent once." in (
        created.stderr
    )
    assert "Hashing mate_aqua.jpg on this computer" in created.stderr

    status = _run(
        ["case", "status", "--server", live_server.base_url, "--case-number", number], pin + "\n"
    )
    assert status.exit_code == 0, status.output
    assert f"Case {number}: active" in status.stdout
    for variant in enrolled:
        key = "pdq" if variant.kind == "full" else f"pdq_{variant.kind}"
        assert f"{key} {variant.hex[:8]}" in status.stdout
    assert pin not in status.stdout  # the hidden prompt does not echo it

    withdrawn = _run(
        ["case", "withdraw", "--server", live_server.base_url, "--case-number", number, "--yes"],
        pin + "\n",
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    assert f"Case {number}: withdrawn" in withdrawn.stdout


def test_video_sends_md5_and_vpdq(live_server: ServerProcess, testdata: Path) -> None:
    video = testdata / "videos" / "carphone_distorted.mp4"
    number, pin, created = _open(live_server, video)
    assert "Photos and videos: 1 (2 hashes)" in created.stdout
    status = _run(
        ["case", "status", "--json", "--server", live_server.base_url, "--case-number", number],
        pin + "\n",
    )
    import json

    body = json.loads(status.stdout.strip().splitlines()[-1])
    assert [h["type"] for h in body["hashes"]] == ["md5", "vpdq"]
    assert body["hashes"][0]["prefix"] == openncii.hash_file(video).md5[:8]


def test_case_number_and_pin_are_prompted(live_server: ServerProcess, testdata: Path) -> None:
    number, pin, _ = _open(live_server, testdata / "photos" / "mate_storm.jpg")
    result = _run(["case", "status", "--server", live_server.base_url], f"{number}\n{pin}\n")
    assert result.exit_code == 0, result.output
    assert "Case number:" in result.stdout and "PIN:" in result.stdout
    assert "active" in result.stdout


def test_pin_is_never_a_command_line_option(live_server: ServerProcess) -> None:
    for command in ("status", "withdraw"):
        help_text = _run(["case", command, "--help"]).stdout
        assert "--pin" not in help_text
        rejected = runner.invoke(
            app, ["case", command, "--case-number", "X", "--pin", "12345678"], input=""
        )
        assert rejected.exit_code == 2  # usage error: no such option


def test_wrong_pin_is_reported(live_server: ServerProcess) -> None:
    result = _run(
        ["case", "status", "--server", live_server.base_url, "--case-number", "2345-6789-ABCD"],
        "12345678\n",
    )
    assert result.exit_code == 1
    assert "do not match a case" in result.stderr


def test_a_no_answer_gets_the_kind_message(live_server: ServerProcess, testdata: Path) -> None:
    photo = testdata / "photos" / "mate_aqua.jpg"
    result = _run(
        ["case", "create", str(photo), "--server", live_server.base_url], "y\nn\ny\ny\ny\n"
    )
    assert result.exit_code == 1
    assert "Take It Down" in result.stderr


def test_unusable_files_are_left_out_and_named(
    live_server: ServerProcess, testdata: Path, tmp_path: Path
) -> None:
    """As on the web: a file that cannot be read or is too plain is left out, the person is
    told which and why, and the case is opened with the others."""
    from PIL import Image

    plain = tmp_path / "plain.png"
    Image.new("RGB", (400, 300), (200, 30, 40)).save(plain)
    junk = tmp_path / "notes.jpg"
    junk.write_text("not an image", "utf-8")
    photo = testdata / "photos" / "mate_aqua.jpg"
    number, pin, result = _open(live_server, plain, photo, junk)
    assert "Left out: plain.png: this image is too plain" in result.stderr
    assert "Left out: notes.jpg: it could not be read" in result.stderr
    assert f"Photos and videos: 1 ({len(openncii.enroll_file(photo))} hashes)" in result.stdout
    assert "Left out:    plain.png, notes.jpg" in result.stdout
    status = _run(
        ["case", "status", "--server", live_server.base_url, "--case-number", number], pin + "\n"
    )
    assert status.exit_code == 0, status.output


def test_no_usable_file_says_no_case_was_opened(live_server: ServerProcess, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not an image", "utf-8")
    result = _run(["case", "create", str(junk), "--server", live_server.base_url], YES_TO_ALL)
    assert result.exit_code == 1
    assert "Left out: notes.txt" in result.stderr
    assert "No case was opened. None of the files could be used." in result.stderr
    assert "Case number" not in result.stdout


def test_a_refused_case_says_no_case_was_opened(live_server: ServerProcess, testdata: Path) -> None:
    photo = testdata / "photos" / "mate_aqua.jpg"
    result = _run(
        ["case", "create", str(photo), "--server", live_server.base_url], "y\nn\ny\ny\ny\n"
    )
    assert result.exit_code == 1
    assert "Take It Down" in result.stderr
    assert result.stderr.rstrip().endswith("No case was opened.")


def test_unreachable_server(testdata: Path) -> None:
    from openncii.testing import free_port

    result = _run(
        ["case", "status", "--server", f"http://127.0.0.1:{free_port()}", "--case-number", "X"],
        "12345678\n",
    )
    assert result.exit_code == 2
    assert "Cannot reach the server" in result.stderr


def test_a_busy_shared_address_does_not_refuse_a_case(testdata: Path, tmp_path: Path) -> None:
    """Over the per-address creation limit, the CLI solves the server's proof of work."""
    from openncii.testing import FakeClock, serve_on_a_clock

    # On a clock that stands still, both creations fall in one window, however slow the machine.
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    limits = {"rate_limit_create": 1, "create_proof_bits": 14}
    with serve_on_a_clock(database_url, FakeClock(), **limits) as base_url:
        photo = testdata / "photos" / "mate_aqua.jpg"
        _open(base_url, photo)
        _, _, second = _open(base_url, photo)
    assert "a little work on this computer lets yours through" in second.stderr
