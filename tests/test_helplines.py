"""Local helplines: the shipped list, ``openncii helplines list/add/remove``, and
``GET /api/v1/helplines?language=`` as the page reads it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from openncii.cli import app
from openncii.errors import HelplineError
from openncii.helplines import add_helpline, helplines_for_language, remove_helpline

runner = CliRunner()

#: What migration 0008 ships: (country, language) -> name.
SHIPPED = {
    ("NL", "nl"): "Helpwanted",
    ("NL", "en"): "Helpwanted",
    ("BE", "nl"): "Instituut voor de gelijkheid van vrouwen en mannen",
    ("BE", "fr"): "Institut pour l'égalité des femmes et des hommes",
    ("FR", "fr"): "3018 (e-Enfance)",
    ("GB", "en"): "Revenge Porn Helpline",
}


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def _listed(database_url: str) -> list[dict[str, Any]]:
    result = _run("helplines", "list", "--json", "--database-url", database_url)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_shipped_helplines_of_four_countries(database_url: str) -> None:
    listed = _listed(database_url)
    assert {(h["country"], h["language"]): h["name"] for h in listed} == SHIPPED
    assert all(h["url"].startswith("https://") for h in listed)
    uk = next(h for h in listed if h["country"] == "GB")
    assert uk["url"] == "https://revengepornhelpline.org.uk/"
    assert uk["phone"] == "0345 6000 459"


def test_add_and_remove_change_what_the_page_gets(
    database_url: str, api_client: Callable[..., Any]
) -> None:
    client = api_client()
    before = client.get("/api/v1/helplines", params={"language": "nl"}).json()["helplines"]
    assert [(h["country"], h["name"]) for h in before] == [
        ("BE", SHIPPED[("BE", "nl")]),
        ("NL", "Helpwanted"),
    ]
    added = _run(
        "helplines", "add", "nl", "nl", "Centrum Seksueel Geweld",
        "https://centrumseksueelgeweld.nl/", "--phone", "0800 0188", "--json",
        "--database-url", database_url,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    entry = json.loads(added.stdout)
    assert entry["country"] == "NL" and entry["phone"] == "0800 0188"
    after = client.get("/api/v1/helplines", params={"language": "nl"}).json()["helplines"]
    assert [h["name"] for h in after][-1] == "Centrum Seksueel Geweld"
    removed = _run("helplines", "remove", str(entry["id"]), "--database-url", database_url)
    assert removed.exit_code == 0 and "Centrum Seksueel Geweld" in removed.stdout
    assert client.get("/api/v1/helplines", params={"language": "nl"}).json()["helplines"] == before
    # Another language sees its own; a regional variant falls back to its language.
    french = client.get("/api/v1/helplines", params={"language": "fr-CA"}).json()["helplines"]
    assert {h["country"] for h in french} == {"BE", "FR"}
    assert client.get("/api/v1/helplines", params={"language": "ko"}).json() == {"helplines": []}
    assert client.get("/api/v1/helplines", params={"language": "../x"}).status_code == 422


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("country", "Netherlands", "two-letter"),
        ("language", "Dutch!", "language"),
        ("url", "http://example.org/", "https://"),
        ("url", "javascript:alert(1)", "https://"),
        ("name", "  ", "name"),
        ("phone", "call me", "phone"),
    ],
)
def test_a_bad_entry_is_refused_and_nothing_is_added(
    db_sessions: Any, field: str, value: str, said: str
) -> None:
    entry = {"country": "NL", "language": "nl", "name": "X", "url": "https://x.example/"}
    entry[field] = value
    with db_sessions() as session, pytest.raises(HelplineError, match=said):
        add_helpline(session, **entry)
    with db_sessions() as session:
        assert len(helplines_for_language(session, "nl")) == 2


def test_removing_an_unknown_id_says_so(database_url: str, db_sessions: Any) -> None:
    with db_sessions() as session, pytest.raises(HelplineError, match="no helpline with id 999"):
        remove_helpline(session, 999)
    result = _run("helplines", "remove", "999", "--database-url", database_url)
    assert result.exit_code == 1
    assert "no helpline with id 999" in result.stderr
