"""Hash validation (property tests over the parsers and validators)."""

from __future__ import annotations

import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from openncii.cases.denylist import DenyList
from openncii.cases.validation import (
    EMPTY_FILE_MD5,
    Md5Submission,
    PdqSubmission,
    VpdqFrameSubmission,
    VpdqSubmission,
    validate_hashes,
)
from openncii.errors import CaseRejectedError, HashRejectedError, TooManyHashesError

DENYLIST = DenyList.load()
hex64 = st.integers(min_value=0, max_value=2**256 - 1).map(lambda v: f"{v:064x}")
#: Random 256-bit values: about 128 bits from every deny-list entry (plain integers shrink to 0).
random_hex64 = st.integers(0, 2**32).map(
    lambda seed: f"{random.Random(seed).getrandbits(256):064x}"
)


def _far_from_denylist(value: str) -> bool:
    return not DENYLIST.matches(value)


def _flip_bits(value: str, count: int, rng: random.Random) -> str:
    number = int(value, 16)
    for bit in rng.sample(range(256), count):
        number ^= 1 << bit
    return f"{number:064x}"


@settings(deadline=None)
@given(random_hex64, st.integers(50, 100), st.booleans())
def test_valid_pdq_is_normalised_to_lowercase(value: str, quality: int, upper: bool) -> None:
    assume(_far_from_denylist(value))
    typed = value.upper() if upper else value
    [valid] = validate_hashes([PdqSubmission(f" {typed} ", quality)], DENYLIST, 200)
    assert (valid.signal_type, valid.value, valid.quality) == ("pdq", value, quality)
    assert valid.prefix == value[:8]


@settings(deadline=None)
@given(hex64, st.integers(0, 49))
def test_low_quality_pdq_is_refused(value: str, quality: int) -> None:
    with pytest.raises(HashRejectedError, match="too plain") as raised:
        validate_hashes([PdqSubmission(value, quality)], DENYLIST, 200)
    assert raised.value.index == 0


@settings(deadline=None)
@given(st.text(max_size=80))
def test_pdq_parser_accepts_exactly_64_hex_digits(text: str) -> None:
    stripped = text.strip().lower()
    is_hex = len(stripped) == 64 and all(c in "0123456789abcdef" for c in stripped)
    assume(not is_hex or _far_from_denylist(stripped))
    try:
        [valid] = validate_hashes([PdqSubmission(text, 80)], DENYLIST, 200)
    except HashRejectedError as exc:
        assert not is_hex
        assert value_not_in_message(text, str(exc))
    else:
        assert is_hex
        assert valid.value == stripped


def value_not_in_message(value: str, message: str) -> bool:
    """Refusals describe the problem without quoting the submitted value."""
    return len(value.strip()) < 8 or value.strip() not in message


@settings(deadline=None)
@given(st.text(max_size=50))
def test_md5_parser_accepts_exactly_32_hex_digits(text: str) -> None:
    stripped = text.strip().lower()
    is_hex = len(stripped) == 32 and all(c in "0123456789abcdef" for c in stripped)
    assume(stripped not in {"0" * 32, "f" * 32, EMPTY_FILE_MD5})
    try:
        [valid] = validate_hashes([Md5Submission(text)], DENYLIST, 200)
    except HashRejectedError:
        assert not is_hex
    else:
        assert is_hex
        assert (valid.signal_type, valid.value) == ("md5", stripped)


@pytest.mark.parametrize("value", ["0" * 32, "F" * 32, EMPTY_FILE_MD5.upper()])
def test_degenerate_md5_is_refused(value: str) -> None:
    with pytest.raises(HashRejectedError, match="empty or blank"):
        validate_hashes([Md5Submission(value)], DENYLIST, 200)


@settings(deadline=None)
@given(st.integers(0, 31), st.integers(0, len(DENYLIST) - 1), st.randoms(use_true_random=False))
def test_anything_within_31_bits_of_the_denylist_is_refused(
    flips: int, entry: int, rng: random.Random
) -> None:
    value = _flip_bits(f"{DENYLIST.entries[entry]:064x}", flips, rng)
    with pytest.raises(HashRejectedError, match="single-colour or gradient"):
        validate_hashes([PdqSubmission(value, 100)], DENYLIST, 200)


@settings(deadline=None)
@given(st.integers(0, 31), st.randoms(use_true_random=False))
def test_near_all_zeros_and_all_ones_are_refused(flips: int, rng: random.Random) -> None:
    for base in ("0" * 64, "f" * 64):
        with pytest.raises(HashRejectedError):
            validate_hashes([PdqSubmission(_flip_bits(base, flips, rng), 100)], DENYLIST, 200)


def test_a_hash_32_bits_from_the_only_entry_is_accepted() -> None:
    single = DenyList(entries=(0,))
    value = f"{(1 << 32) - 1:064x}"  # 32 bits set
    [valid] = validate_hashes([PdqSubmission(value, 90)], single, 200)
    assert valid.value == value
    with pytest.raises(HashRejectedError):
        validate_hashes([PdqSubmission(f"{(1 << 31) - 1:064x}", 90)], single, 200)


@settings(deadline=None)
@given(st.lists(random_hex64, min_size=1, max_size=20), st.data())
def test_duplicates_are_merged_in_order(values: list[str], data: st.DataObject) -> None:
    assume(all(_far_from_denylist(v) for v in values))
    doubled = values + data.draw(st.permutations(values))
    valid = validate_hashes([PdqSubmission(v, 90) for v in doubled], DENYLIST, 200)
    assert [h.value for h in valid] == list(dict.fromkeys(values))


@settings(deadline=None)
@given(st.integers(1, 30), st.integers(0, 30))
def test_count_limit(limit: int, extra: int) -> None:
    rng = random.Random(limit * 100 + extra)
    submissions = [PdqSubmission(f"{rng.getrandbits(256):064x}", 90) for _ in range(limit + extra)]
    if extra:
        with pytest.raises(TooManyHashesError, match=f"at most {limit}"):
            validate_hashes(submissions, DENYLIST, limit)
    else:
        assert len(validate_hashes(submissions, DENYLIST, limit)) == limit


def test_no_hashes_is_refused() -> None:
    with pytest.raises(CaseRejectedError, match="at least one"):
        validate_hashes([], DENYLIST, 200)


def test_the_first_bad_hash_is_named() -> None:
    good = PdqSubmission(f"{random.getrandbits(256):064x}", 90)
    with pytest.raises(HashRejectedError) as raised:
        validate_hashes(
            [good, good, Md5Submission("xyz"), PdqSubmission("0" * 64, 90)], DENYLIST, 9
        )
    assert raised.value.index == 2
    assert str(raised.value).startswith("Hash 3:")


frames = st.lists(
    st.tuples(hex64, st.integers(0, 100), st.floats(0, 1e5, allow_nan=False)),
    min_size=1,
    max_size=30,
)


@settings(deadline=None)
@given(frames)
def test_vpdq_signature_is_canonical_and_keyed_by_its_digest(
    items: list[tuple[str, int, float]],
) -> None:
    useful = any(q >= 50 and _far_from_denylist(v) for v, q, _ in items)
    submission = VpdqSubmission(tuple(VpdqFrameSubmission(v.upper(), q, t) for v, q, t in items))
    try:
        [valid] = validate_hashes([submission], DENYLIST, 200)
    except HashRejectedError as exc:
        assert not useful
        assert "no frame" in str(exc)
        return
    assert useful
    assert valid.signal_type == "vpdq"
    assert valid.payload is not None
    lines = valid.payload.split("\n")
    assert len(lines) == len(items)
    for number, (line, (value, quality, ts)) in enumerate(zip(lines, items, strict=True)):
        assert line == f"{number},{quality},{value},{ts:.3f}"
    import hashlib

    assert valid.value == hashlib.sha256(valid.payload.encode()).hexdigest()
    # The same signature typed differently is the same hash.
    again = VpdqSubmission(
        tuple(VpdqFrameSubmission(v, q, t, frame=i) for i, (v, q, t) in enumerate(items))
    )
    assert validate_hashes([again], DENYLIST, 200)[0].value == valid.value


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (VpdqFrameSubmission("ab" * 32, 101, 0.0), "between 0 and 100"),
        (VpdqFrameSubmission("ab" * 32, 90, -1.0), "0 or more"),
        (VpdqFrameSubmission("ab" * 32, 90, float("nan")), "0 or more"),
        (VpdqFrameSubmission("ab" * 32, 90, 0.0, frame=-2), "frame number"),
        (VpdqFrameSubmission("ab" * 30, 90, 0.0), "64 hex"),
    ],
)
def test_bad_vpdq_frames_are_refused(frame: VpdqFrameSubmission, words: str) -> None:
    good = VpdqFrameSubmission(f"{random.getrandbits(256):064x}", 90, 1.0)
    with pytest.raises(HashRejectedError, match=words) as raised:
        validate_hashes([VpdqSubmission((good, frame))], DENYLIST, 200)
    assert "frame 2" in str(raised.value)


def test_empty_vpdq_is_refused() -> None:
    with pytest.raises(HashRejectedError, match="at least one frame"):
        validate_hashes([VpdqSubmission(())], DENYLIST, 200)
