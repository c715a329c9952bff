"""``openncii case``: the desktop way for a person to open, check and withdraw a case.

Files are hashed on this computer with the hashing library; only the hashes are sent. The PIN is
always typed at a prompt (never a command-line argument, which would land in shell history and
process lists).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

import typer

from openncii.cli.common import ExitCode, fail, load_settings

__all__ = ["app"]

app = typer.Typer(
    name="case",
    help="Open a case from files on this computer (only their hashes are sent), check it, "
    "withdraw it.",
    no_args_is_help=True,
)

_TIMEOUT_S: Final = 60.0
_QUESTIONS: Final = (
    ("in_image", "Are you the person in these images or videos?"),
    ("adult_when_taken", "Were you 18 or older when they were taken?"),
    ("adult_now", "Are you 18 or older now?"),
    ("has_content", "Do you have the images or videos on this computer?"),
    ("intimate", "Are they nude, semi-nude or sexual?"),
)

Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        help="Address of the OpenNCII server (OPENNCII_SERVER_URL; default: the one on this "
        "computer).",
    ),
]


def _server(server: str | None) -> str:
    from openncii.settings import CaseClientSettings

    return load_settings("case", CaseClientSettings, server_url=server).server_url


#: A 503 ``busy`` comes before the server did anything: wait Retry-After (capped) and resend.
_BUSY_RETRIES: Final = 3
_BUSY_WAIT_MAX_S: Final = 5.0
_NO_CASE: Final = "No case was opened."


@dataclass(frozen=True, slots=True)
class _Answer:
    """The server's answer: its status, its JSON body, and for a refusal the sentence to show."""

    status: int
    payload: dict[str, Any]
    detail: str = ""

    @property
    def refused(self) -> bool:
        return self.status >= 400


def _send(
    given: str | None, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> _Answer:
    """POST ``body`` and return the answer. Waits out a busy server (503)."""
    import time

    import httpx

    server = _server(given)
    url = server.rstrip("/") + path
    for attempt in range(_BUSY_RETRIES + 1):
        try:
            with httpx.Client(timeout=_TIMEOUT_S, follow_redirects=False) as client:
                response = client.post(url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            fail(
                None, f"Cannot reach the server at {server}: {type(exc).__name__}.", ExitCode.USAGE
            )
        if response.status_code != 503 or attempt == _BUSY_RETRIES:
            break
        try:
            wait = float(response.headers.get("Retry-After", "1"))
        except ValueError:
            wait = 1.0
        time.sleep(min(max(wait, 0.0), _BUSY_WAIT_MAX_S))
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    if response.status_code >= 400:
        detail = str(payload.get("detail") or f"the server answered {response.status_code}")
        if response.status_code in (429, 503) and "Retry-After" in response.headers:
            detail = f"{detail} (retry after {response.headers['Retry-After']} s)"
        return _Answer(response.status_code, payload, detail)
    return _Answer(response.status_code, payload)


def _post(given: str | None, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = _send(given, path, body)
    if answer.refused:
        fail(None, answer.detail, ExitCode.FAILED)
    return answer.payload


def _left_out(path: Path, why: str) -> None:
    typer.echo(f"Left out: {path.name}: {why}", err=True)


def _hash_items(files: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """The hashes of every file that can be used, each with its file. A file that cannot be
    read or is too plain to fingerprint is left out, and the person is told (as on the web)."""
    from openncii import hash_file
    from openncii.errors import MediaError

    items: list[tuple[Path, dict[str, Any]]] = []
    seen: set[str] = set()
    for path in files:
        typer.echo(f"Hashing {path.name} on this computer ...", err=True)
        try:
            # A photo: the hashes of its regions that robust matching enrols (the web app's).
            result = hash_file(path, variants="enrol")
        except (MediaError, OSError) as exc:
            _left_out(path, f"it could not be read ({exc}).")
            continue
        if result.md5 in seen:
            _left_out(path, "it is the same file as one above: sent once.")
            continue
        seen.add(result.md5)
        if result.media == "image":
            if not result.variants:
                _left_out(
                    path,
                    "this image is too plain (for example, mostly one colour) to fingerprint "
                    "reliably.",
                )
                continue
            items.append(
                (path, {"type": "photo", "variants": [v.to_json() for v in result.variants]})
            )
        else:
            items.append((path, {"type": "md5", "value": result.md5}))
            frames = list(result.vpdq or ())
            if frames:
                items.append(
                    (
                        path,
                        {
                            "type": "vpdq",
                            "frames": [
                                {
                                    "frame": f.frame,
                                    "pdq": f.pdq,
                                    "quality": f.quality,
                                    "timestamp": round(f.timestamp, 6),
                                }
                                for f in frames
                            ],
                        },
                    )
                )
    return items


def _proof_of_work(challenge: str) -> dict[str, str]:
    """Solve the server's challenge (a busy shared address: see openncii.cases.proof)."""
    from openncii.cases.proof import PROOF_HEADER, solve

    typer.echo(
        "Many cases were opened from this network in the last minute; a little work on this "
        "computer lets yours through ...",
        err=True,
    )
    return {PROOF_HEADER: f"{challenge}:{solve(challenge)}"}


@app.command("create")
def create(
    files: Annotated[
        list[Path],
        typer.Argument(exists=True, dir_okay=False, readable=True, help="Images or videos."),
    ],
    server: Server = None,
    language: Annotated[str | None, typer.Option(help="Your language (BCP 47), e.g. en.")] = None,
) -> None:
    """Hash FILES here, send only the hashes, and print the case number and PIN.

    A file that cannot be used (unreadable, too plain, or refused by the server) is left out
    and named; the case is opened with the others."""
    answers = {key: typer.confirm(question, default=False) for key, question in _QUESTIONS}
    items = _hash_items(files)
    while True:
        if not items:
            fail(None, f"{_NO_CASE} None of the files could be used.", ExitCode.FAILED)
        body: dict[str, Any] = {"eligibility": answers, "hashes": [item for _, item in items]}
        if language:
            body["language"] = language
        answer = _send(server, "/api/v1/cases", body)
        challenge = answer.payload.get("challenge")
        if answer.status == 429 and isinstance(challenge, str):
            answer = _send(server, "/api/v1/cases", body, _proof_of_work(challenge))
        if not answer.refused:
            break
        index = answer.payload.get("index")
        code = answer.payload.get("code")
        if code == "hash_rejected" and isinstance(index, int) and 0 <= index < len(items):
            path, _ = items.pop(index)
            _left_out(path, f"the server did not accept its fingerprint: {answer.detail}")
            continue
        if code == "not_eligible":  # the kind words first
            fail(None, f"{answer.detail} {_NO_CASE}", ExitCode.FAILED)
        fail(None, f"{_NO_CASE} {answer.detail}", ExitCode.FAILED)
    created = answer.payload
    sent = {path for path, _ in items}
    typer.echo("")
    typer.echo("Your case is open. Write these down now: they cannot be shown again.")
    typer.echo(f"  Case number: {created['case_number']}")
    typer.echo(f"  PIN:         {created['pin']}")
    typer.echo(f"  Photos and videos: {created['file_count']} ({created['hash_count']} hashes)")
    left_out = [path.name for path in files if path not in sent]
    if left_out:
        typer.echo(f"  Left out:    {', '.join(left_out)} (see above why)")


def _credentials(case_number: str | None) -> dict[str, str]:
    number = case_number or typer.prompt("Case number")
    pin = typer.prompt("PIN", hide_input=True)
    return {"case_number": number, "pin": pin}


def _print_status(status: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(status))
        return
    typer.echo(f"Case {status['case_number']}: {status['status']} (opened {status['created_at']})")
    for item in status.get("hashes", []):
        outcomes = ", ".join(f"{o['partner']}: {o['outcome']}" for o in item["outcomes"])
        typer.echo(
            f"  {item['type']} {item['prefix']}…  {outcomes or 'no answer from partners yet'}"
        )


CaseNumber = Annotated[
    str | None, typer.Option("--case-number", help="Your case number (asked if not given).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the status as JSON.")]


@app.command("status")
def status(case_number: CaseNumber = None, server: Server = None, as_json: AsJson = False) -> None:
    """Show a case's status. The PIN is asked at a prompt."""
    _print_status(_post(server, "/api/v1/cases/status", _credentials(case_number)), as_json)


@app.command("withdraw")
def withdraw(
    case_number: CaseNumber = None,
    server: Server = None,
    as_json: AsJson = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Withdraw a case: its hashes are withdrawn from every partner. The PIN is asked."""
    credentials = _credentials(case_number)
    if not yes and not typer.confirm("Withdraw this case from every partner?", default=False):
        fail(None, "Nothing was changed.", ExitCode.FAILED)
    _print_status(_post(server, "/api/v1/cases/withdraw", credentials), as_json)
