"""Case numbers, PINs and partner references (property tests)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from openncii.cases.numbers import (
    CASE_NUMBER_ALPHABET,
    CASE_NUMBER_LENGTH,
    LEGACY_PIN_DIGITS,
    PIN_DIGITS,
    format_case_number,
    format_pin,
    new_case_number,
    new_partner_ref,
    new_pin,
    normalize_case_number,
    normalize_pin,
)

numbers = st.text(alphabet=CASE_NUMBER_ALPHABET, min_size=12, max_size=12)


def test_alphabet_has_no_look_alikes() -> None:
    assert not set(CASE_NUMBER_ALPHABET) & set("01ILOU")
    assert len(set(CASE_NUMBER_ALPHABET)) == len(CASE_NUMBER_ALPHABET) == 30
    assert CASE_NUMBER_LENGTH >= 12


def test_new_case_numbers_are_random_and_well_formed() -> None:
    made = [new_case_number() for _ in range(2000)]
    assert len(set(made)) == len(made)
    assert all(re.fullmatch(f"[{CASE_NUMBER_ALPHABET}]{{12}}", n) for n in made)
    # Every symbol shows up in every position over enough draws (no sequence, no clock).
    for position in (0, 6, 11):
        assert len({n[position] for n in made}) == 30


def test_new_pins_are_sixteen_random_digits_shown_in_groups_of_four() -> None:
    pins = [new_pin() for _ in range(2000)]
    assert all(re.fullmatch(r"[0-9]{16}", p) for p in pins)
    assert PIN_DIGITS == 16
    assert LEGACY_PIN_DIGITS == 8
    assert len(set(pins)) == 2000
    assert {p[0] for p in pins} == set("0123456789")  # leading zeros are kept
    assert {p[15] for p in pins} == set("0123456789")
    assert format_pin("0123456789012345") == "0123-4567-8901-2345"
    assert all(re.fullmatch(r"[0-9]{4}(-[0-9]{4}){3}", format_pin(p)) for p in pins)


def test_partner_references_are_opaque() -> None:
    refs = {new_partner_ref() for _ in range(100)}
    assert len(refs) == 100
    assert all(re.fullmatch(r"[0-9a-f]{32}", r) for r in refs)


@settings(deadline=None)
@given(numbers)
def test_format_groups_by_four(number: str) -> None:
    shown = format_case_number(number)
    assert re.fullmatch(r"\w{4}-\w{4}-\w{4}", shown)
    assert shown.replace("-", "") == number


@settings(deadline=None)
@given(
    numbers,
    st.lists(st.sampled_from([" ", "-", "  ", "\t", "."]), min_size=3, max_size=3),
    st.booleans(),
)
def test_typed_numbers_normalise_back(number: str, separators: list[str], lower: bool) -> None:
    shown = format_case_number(number)
    typed = separators[0] + shown.replace("-", separators[1]) + separators[2]
    if lower:
        typed = typed.lower()
    assert normalize_case_number(typed) == number


@settings(deadline=None)
@given(st.text(max_size=30))
def test_normalize_never_accepts_other_symbols(text: str) -> None:
    result = normalize_case_number(text)
    if result is not None:
        assert len(result) == 12
        assert set(result) <= set(CASE_NUMBER_ALPHABET)


@settings(deadline=None)
@given(
    st.from_regex(r"[0-9]{16}", fullmatch=True),
    st.lists(st.sampled_from([" ", "-", "", " - ", "\t", "."]), min_size=3, max_size=3),
)
def test_pins_normalise_with_or_without_separators(pin: str, separators: list[str]) -> None:
    assert normalize_pin(pin) == pin
    assert normalize_pin(format_pin(pin)) == pin
    groups = format_pin(pin).split("-")
    typed = " " + "".join(g + s for g, s in zip(groups, [*separators, ""], strict=True))
    assert normalize_pin(typed) == pin
    assert normalize_pin(pin + "0") is None
    assert normalize_pin(pin[:15]) is None
    assert normalize_pin(pin[:12]) is None


@settings(deadline=None)
@given(st.from_regex(r"[0-9]{8}", fullmatch=True))
def test_older_eight_digit_pins_still_normalise(pin: str) -> None:
    assert normalize_pin(pin) == pin
    assert normalize_pin(f" {pin[:4]} {pin[4:]} ") == pin
    assert normalize_pin(pin + "0") is None
    assert normalize_pin(pin[:7]) is None
