"""Static checks of the web app's files (no browser): complete catalogues, a strict-CSP-friendly
page (no inline script or style, no eval), no third-party resources."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from openncii.web import STATIC_DIR

I18N = STATIC_DIR / "i18n"
JS_FILES = sorted((STATIC_DIR / "js").rglob("*.js"))
HTML = STATIC_DIR / "index.html"
CSS_FILES = sorted((STATIC_DIR / "css").glob("*.css"))


def _catalogues() -> dict[str, dict[str, str]]:
    out = {}
    for path in sorted(I18N.glob("*.json")):
        if path.name != "languages.json":
            out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return out


def test_static_dir_is_the_package_folder() -> None:
    assert STATIC_DIR.is_dir()
    assert (STATIC_DIR / "index.html").is_file()


#: The plural categories of CLDR (what ``Intl.PluralRules`` answers); a plural text is a key per
#: category (``review.photos.one``, ``review.photos.few``, ...), ``.other`` always among them.
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


#: Plural forms that may say their number in words rather than with ``{count}``.
NUMBER_IN_WORDS = ("zero", "one", "two")


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def _plural_bases(english: dict[str, str]) -> set[str]:
    return {key.removesuffix(".one") for key in english if key.endswith(".one")}


def test_language_list_names_every_catalogue() -> None:
    listed = json.loads((I18N / "languages.json").read_text(encoding="utf-8"))["languages"]
    codes = [entry["code"] for entry in listed]
    assert sorted(codes) == sorted(_catalogues())
    assert len(set(codes)) == len(codes)
    assert codes[0] == "en"  # the fallback comes first
    assert {"en", "nl", "fr", "ar"} <= set(codes)
    for entry in listed:
        assert set(entry) == {"code", "name", "dir"}, entry
        assert entry["name"].strip()
        assert entry["dir"] == ("rtl" if entry["code"] in ("ar", "fa", "he", "ur") else "ltr")
        assert re.fullmatch(r"[a-z]{2,3}(-[A-Z]{2})?", entry["code"]), entry["code"]


def catalogue_gaps(english: dict[str, str], texts: dict[str, str]) -> list[str]:
    """What a catalogue lacks or gets wrong against the English one, one line each.

    Every English key must be there with the same ``{placeholders}``. A language may have more
    plural forms than English (``.few``, ``.many``, ...; which ones it needs is checked in the
    browser against ``Intl.PluralRules``): each with the placeholders of the English ``.other``.
    A ``.zero``, ``.one`` or ``.two`` form may say its number in words instead of ``{count}``
    (Arabic: "صورتان", two photos); the browser test checks that such a form stands for one
    number only.
    """
    gaps = [
        f"missing {key}: {json.dumps(english[key], ensure_ascii=False)}"
        for key in english
        if key not in texts
    ]
    bases = _plural_bases(english)
    for key, value in texts.items():
        base, _, category = key.rpartition(".")
        if key in english:
            model = english[key]
        elif base in bases and category in PLURAL_CATEGORIES:
            model = english[f"{base}.other"]
        else:
            gaps.append(f"unknown key {key}")
            continue
        if not isinstance(value, str) or not value.strip():
            gaps.append(f"empty {key}")
        elif _placeholders(value) != _placeholders(model) and not (
            base in bases
            and category in NUMBER_IN_WORDS
            and _placeholders(value) == _placeholders(model) - {"count"}
        ):
            gaps.append(f"placeholders of {key}: {sorted(_placeholders(value))}")
    return gaps


def test_catalogues_are_complete_and_keep_every_placeholder() -> None:
    """Every catalogue has every key of en.json and the same placeholders. When this fails after
    new English texts, its message lists, per language, each missing key with its English text."""
    catalogues = _catalogues()
    english = catalogues["en"]
    gaps = {lang: catalogue_gaps(english, texts) for lang, texts in catalogues.items()}
    report = "\n".join(
        f"{lang}.json:\n  " + "\n  ".join(lines) for lang, lines in gaps.items() if lines
    )
    assert not report, "catalogues to complete:\n" + report


def test_catalogue_gaps_are_found() -> None:
    english = {"a": "Hello {name}", "n.one": "{count} file", "n.other": "{count} files"}
    assert catalogue_gaps(english, dict(english)) == []
    polish = {"a": "Cześć {name}", "n.one": "{count} plik", "n.few": "{count} pliki",
              "n.many": "{count} plików", "n.other": "{count} pliku"}  # fmt: skip
    assert catalogue_gaps(english, polish) == []
    assert catalogue_gaps(english, {**polish, "a": "Cześć"}) == ["placeholders of a: []"]
    assert catalogue_gaps(english, {**polish, "n.few": "{n} pliki"}) == [
        "placeholders of n.few: ['n']"
    ]
    assert catalogue_gaps(english, {**polish, "n.lots": "x", "b.few": "y"}) == [
        "unknown key n.lots",
        "unknown key b.few",
    ]
    arabic = {"a": "مرحبا {name}", "n.one": "ملف واحد", "n.two": "ملفان", "n.few": "{count} ملفات",
              "n.other": "{count} ملف"}  # fmt: skip
    assert catalogue_gaps(english, arabic) == []
    assert catalogue_gaps(english, {**arabic, "n.few": "ملفات"}) == ["placeholders of n.few: []"]
    del polish["a"]
    assert catalogue_gaps(english, polish) == ['missing a: "Hello {name}"']


def test_translations_are_translations() -> None:
    """Most texts differ from the English ones (a copied catalogue is not a translation)."""
    catalogues = _catalogues()
    english = catalogues["en"]
    for lang, texts in catalogues.items():
        if lang == "en":
            continue
        same = [k for k in english if texts.get(k) == english[k]]
        assert len(same) < 0.1 * len(english), f"{lang} copies English for {same}"


def _keys_used() -> set[str]:
    html = HTML.read_text(encoding="utf-8")
    keys = set(re.findall(r'data-i18n="([^"]+)"', html))
    for attr in re.findall(r'data-i18n-attr="([^"]+)"', html):
        keys |= {pair.split(":")[1].strip() for pair in attr.split(";")}
    for path in JS_FILES:
        source = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r'\bt\(\s*"([\w.]+)"', source))
        for key in re.findall(r'\btn\(\s*"([\w.]+)"', source):
            keys |= {f"{key}.one", f"{key}.other"}
    return keys


def test_every_text_the_page_uses_is_in_every_catalogue() -> None:
    used = _keys_used()
    assert len(used) > 100
    # Keys built at run time: questions, statuses, outcomes, hash types, reasons.
    dynamic = {
        k for k in _catalogues()["en"] if k.startswith(("eligibility.", "status.", "outcome."))
    }
    for lang, texts in _catalogues().items():
        missing = used - set(texts)
        assert not missing, f"{lang} lacks {missing}"
        assert dynamic <= set(texts)
    for q in ["in_image", "adult_when_taken", "adult_now", "has_content", "intimate"]:
        assert f"eligibility.{q}.question" in used or f"eligibility.{q}.question" in dynamic
        assert f"eligibility.{q}.why" in _catalogues()["en"]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


def test_page_fits_a_strict_content_security_policy() -> None:
    parser = _Collector()
    parser.feed(HTML.read_text(encoding="utf-8"))
    assert parser.inline_scripts == 0
    test_ids = set()
    for tag, attrs in parser.tags:
        assert tag != "style", "inline <style>"
        assert "style" not in attrs, f"inline style on <{tag}>"
        assert not any(name.startswith("on") for name in attrs), f"inline handler on <{tag}>"
        if tag == "script":
            assert attrs.get("type") == "module" and not str(attrs["src"]).startswith("http")
        if tag in ("link", "img", "iframe", "source", "video", "audio"):
            for name in ("src", "href"):
                value = attrs.get(name) or ""
                assert not re.match(r"^(https?:)?//", value), f"third-party resource {value}"
        if "data-testid" in attrs:
            test_ids.add(attrs["data-testid"])
    # The stable hooks that live in the HTML (the eligibility answers are made by
    # js/views/eligibility.js).
    assert {"eligibility-continue", "file-input", "submit-case", "case-number", "pin"} <= test_ids


@pytest.mark.parametrize("path", CSS_FILES, ids=lambda p: Path(p).name)
def test_styles_name_no_physical_side(path: Path) -> None:
    """Sides are logical (``margin-inline-start``, ``inset-inline-end``, ``text-align: start``),
    so that a right-to-left language gets the mirrored layout."""
    source = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    physical = re.findall(
        r"(?:[\w-]*-(?:left|right)\b[\w-]*|\b(?:left|right)\s*:|"
        r"(?:float|clear|text-align)\s*:\s*(?:left|right))",
        source,
    )
    assert not physical, f"physical sides in {path.name}: {physical}"


@pytest.mark.parametrize("path", JS_FILES + CSS_FILES, ids=lambda p: Path(p).name)
def test_scripts_and_styles_load_nothing_from_elsewhere(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"https?://", source), "absolute URL"
    assert "@import" not in source
    if path.suffix == ".js":
        assert not re.search(r"\beval\s*\(|new Function\s*\(", source), "eval"
        assert ".innerHTML" not in source and "insertAdjacentHTML" not in source
        assert "document.cookie" not in source and "localStorage" not in source
        assert 'setTimeout("' not in source


def test_eligibility_hooks_are_made_for_every_question() -> None:
    source = (STATIC_DIR / "js" / "views" / "eligibility.js").read_text(encoding="utf-8")
    assert "`eligibility-${q}`" in source
    for q in ["in_image", "adult_when_taken", "adult_now", "has_content", "intimate"]:
        assert f'"{q}"' in source


def test_one_module_per_view() -> None:
    """Every view of the page (``data-view``) has its module in js/views/ or is static (the
    welcome page), and the entry module imports each of them."""
    views = set(re.findall(r'data-view="([\w-]+)"', HTML.read_text(encoding="utf-8")))
    modules = {p.stem for p in (STATIC_DIR / "js" / "views").glob("*.js")}
    assert views - modules == {"welcome", "not-eligible"}  # not-eligible: views/eligibility.js
    entry = (STATIC_DIR / "js" / "app.js").read_text(encoding="utf-8")
    for module in modules:
        assert f'from "./views/{module}.js"' in entry
    # The per-case limit comes from the server, not from the page.
    for path in JS_FILES:
        assert not re.search(r"MAX_HASHES\s*=\s*\d", path.read_text(encoding="utf-8")), path
