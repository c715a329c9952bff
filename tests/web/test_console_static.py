"""The console's static files: complete EN/NL/FR catalogues, every text the pages use is in
them, and nothing that a strict Content-Security-Policy would block or that loads elsewhere."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from openncii.audit import ACTIONS
from openncii.stopncii import FEEDBACK_VALUES
from openncii.web import STATIC_DIR

ADMIN = STATIC_DIR / "admin"
HTML = ADMIN / "index.html"
JS_FILES = sorted((ADMIN / "js").rglob("*.js"))
CSS_FILES = sorted(ADMIN.glob("*.css"))


def _catalogues() -> dict[str, dict[str, str]]:
    listed = json.loads((ADMIN / "i18n" / "languages.json").read_text("utf-8"))["languages"]
    return {
        entry["code"]: json.loads((ADMIN / "i18n" / f"{entry['code']}.json").read_text("utf-8"))
        for entry in listed
    }


def test_catalogues_are_complete_translations() -> None:
    catalogues = _catalogues()
    assert set(catalogues) == {"en", "nl", "fr"}
    english = catalogues["en"]
    for lang, texts in catalogues.items():
        assert set(texts) == set(english), f"{lang}: {set(texts) ^ set(english)}"
        for key, value in texts.items():
            assert value.strip(), f"{lang}: {key}"
            placeholders = set(re.findall(r"\{(\w+)\}", value))
            assert placeholders == set(re.findall(r"\{(\w+)\}", english[key])), f"{lang}: {key}"
    for lang in ("nl", "fr"):
        same = [k for k in english if catalogues[lang][k] == english[k]]
        assert len(same) < 0.1 * len(english), f"{lang} copies English for {same}"


def test_every_text_the_console_uses_is_in_the_catalogues() -> None:
    html = HTML.read_text("utf-8")
    used = set(re.findall(r'data-i18n="([^"]+)"', html))
    for attr in re.findall(r'data-i18n-attr="([^"]+)"', html):
        used |= {pair.split(":")[1].strip() for pair in attr.split(";")}
    for path in JS_FILES:
        used |= set(re.findall(r'\bt\(\s*"([\w.]+)"', path.read_text("utf-8")))
    # Keys made at run time: audit actions, roles, states, error codes.
    used |= {f"admin.action.{action}" for action in ACTIONS}
    used |= {f"admin.role.{role}" for role in ("admin", "analyst")}
    used |= {f"admin.state.{s}" for s in ("active", "setup", "disabled")}
    dom = (ADMIN / "js" / "dom.js").read_text("utf-8")
    codes = re.search(r"const ERROR_CODES = new Set\(\[(.*?)\]\)", dom, re.S)
    assert codes is not None
    used |= {f"admin.error.{c}" for c in re.findall(r'"(\w+)"', codes.group(1))}
    partners = (ADMIN / "js" / "views" / "partners.js").read_text("utf-8")
    outcomes = re.search(r"const OUTCOMES = new Set\(\[(.*?)\]\)", partners, re.S)
    assert outcomes is not None
    assert set(re.findall(r'"(\w+)"', outcomes.group(1))) == set(FEEDBACK_VALUES)
    used |= {f"admin.outcome.{v}" for v in FEEDBACK_VALUES}
    assert len(used) > 60
    for lang, texts in _catalogues().items():
        assert not used - set(texts), f"{lang} lacks {used - set(texts)}"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data.strip()


def test_the_page_fits_a_strict_content_security_policy() -> None:
    parser = _Collector()
    parser.feed(HTML.read_text("utf-8"))
    assert parser.script_text == ""
    for tag, attrs in parser.tags:
        assert tag != "style" and "style" not in attrs, tag
        assert not any(name.startswith("on") for name in attrs), tag
        for name in ("src", "href"):
            assert not re.match(r"^(https?:)?//", attrs.get(name) or ""), (tag, attrs)


@pytest.mark.parametrize("path", JS_FILES + CSS_FILES, ids=lambda p: Path(p).name)
def test_scripts_and_styles_load_nothing_from_elsewhere(path: Path) -> None:
    source = path.read_text("utf-8")
    assert not re.search(r"https?://", source) and "@import" not in source
    if path.suffix == ".js":
        assert not re.search(r"\beval\s*\(|new Function\s*\(", source)
        assert ".innerHTML" not in source and "insertAdjacentHTML" not in source
        assert "document.cookie" not in source and "localStorage" not in source
