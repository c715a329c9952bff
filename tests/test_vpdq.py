"""vPDQ signals: the reference's per-frame text format and the two-sided match rule.

The text format is checked against every reference hash file byte for byte, and by property
tests (round trip; malformed input always raises ``InvalidHashError``, never anything else).
``vpdq_match`` is checked against a brute-force pure-Python version of the rule, including
the blocked (bounded-memory) path, and on the reference hashes of the sample clips.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openncii.errors import InvalidHashError
from openncii.signals import vpdq as vpdq_module
from openncii.signals.vpdq import (
    VpdqFeature,
    VpdqMatch,
    format_vpdq_text,
    parse_vpdq_line,
    parse_vpdq_text,
    pdq_codes,
    vpdq_match,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
HASHES = SHARED / "testdata" / "threatexchange" / "vpdq" / "sample-hashes"

HASH_A = "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c"


def shared(path: Path) -> Path:
    """``path`` under ../shared, or skip (fail on CI) with a clear message when it is absent."""
    if not path.exists():
        message = f"shared test data not found: {path} (expected ../shared beside the repository)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def reference_hashes(name: str) -> list[VpdqFeature]:
    return parse_vpdq_text((shared(HASHES) / f"{name}.txt").read_text())


# --- the text format -------------------------------------------------------------------------


def test_every_reference_file_round_trips_byte_for_byte() -> None:
    files = sorted(shared(HASHES).glob("*.txt"))
    assert len(files) == 31
    for path in files:
        text = path.read_text()
        features = parse_vpdq_text(text)
        assert len(features) == text.count("\n"), path.name
        assert format_vpdq_text(features) == text, path.name


def test_reference_file_values() -> None:
    features = reference_hashes("chair-19-sd-bar")
    assert len(features) == 564
    first, second, last = features[0], features[1], features[-1]
    assert (first.frame, first.quality, first.pdq, first.timestamp) == (0, 100, HASH_A, 0.0)
    assert (second.frame, second.timestamp) == (1, 0.033)
    assert last.frame == 563
    assert [f.frame for f in features] == list(range(564))
    assert first.hash.hex == HASH_A
    assert first.hash.quality == 100


def test_parse_normalises_case_spaces_and_line_endings() -> None:
    text = f" 7 , 55 ,{HASH_A.upper()}, 0.233 \r\n\r\n8,0,{HASH_A},0.267\n"
    features = parse_vpdq_text(text)
    assert features == [
        VpdqFeature(frame=7, quality=55, pdq=HASH_A, timestamp=0.233),
        VpdqFeature(frame=8, quality=0, pdq=HASH_A, timestamp=0.267),
    ]
    assert format_vpdq_text(features) == f"7,55,{HASH_A},0.233\n8,0,{HASH_A},0.267\n"


BAD_LINES = [
    ("0", "4 comma-separated fields"),
    (f"0,100,{HASH_A}", "4 comma-separated fields"),
    (f"0,100,{HASH_A},0.000,extra", "4 comma-separated fields"),
    (f"x,100,{HASH_A},0.000", "frame number"),
    (f"-1,100,{HASH_A},0.000", "frame number"),
    (f"1.5,100,{HASH_A},0.000", "frame number"),
    (f"0,101,{HASH_A},0.000", "quality"),
    (f"0,-1,{HASH_A},0.000", "quality"),
    (f"0,high,{HASH_A},0.000", "quality"),
    (f"0,100,{HASH_A[:-1]},0.000", "64 hexadecimal"),
    (f"0,100,{HASH_A}0,0.000", "64 hexadecimal"),
    (f"0,100,{HASH_A[:-1]}g,0.000", "64 hexadecimal"),
    (f"0,100,0x{HASH_A[2:]},0.000", "64 hexadecimal"),
    (f"0,100,{HASH_A},-0.033", "timestamp"),
    (f"0,100,{HASH_A},nan", "timestamp"),
    (f"0,100,{HASH_A},inf", "timestamp"),
    (f"0,100,{HASH_A},1e3", "timestamp"),
    (f"0,100,{HASH_A},", "timestamp"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_bad_lines_raise_invalid_hash_error(line: str, reason: str) -> None:
    with pytest.raises(InvalidHashError) as caught:
        parse_vpdq_text(f"0,100,{HASH_A},0.000\n\n{line}\n")
    message = str(caught.value)
    assert "line 3" in message
    assert reason in message
    assert HASH_A[:16] not in message  # hash values are sensitive: never echoed
    with pytest.raises(InvalidHashError, match=reason):
        parse_vpdq_line(line, 1)


@pytest.mark.parametrize("text", ["", "\n", "  \n\r\n"])
def test_empty_text_raises(text: str) -> None:
    with pytest.raises(InvalidHashError, match="no frame hashes"):
        parse_vpdq_text(text)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"frame": -1},
        {"frame": True},
        {"quality": 101},
        {"quality": -1},
        {"quality": 50.0},
        {"pdq": HASH_A.upper()},
        {"pdq": HASH_A[:-2]},
        {"timestamp": -0.5},
        {"timestamp": float("nan")},
        {"timestamp": float("inf")},
    ],
)
def test_feature_validates(kwargs: dict[str, object]) -> None:
    values: dict[str, object] = {"frame": 0, "quality": 100, "pdq": HASH_A, "timestamp": 0.0}
    values.update(kwargs)
    with pytest.raises(InvalidHashError):
        VpdqFeature(**values)  # type: ignore[arg-type]


def test_feature_repr_hides_the_hash() -> None:
    text = repr(VpdqFeature(frame=3, quality=90, pdq=HASH_A, timestamp=0.1))
    assert HASH_A not in text
    assert "frame=3" in text
    assert "quality=90" in text


hex_hashes = st.binary(min_size=32, max_size=32).map(bytes.hex)
features = st.builds(
    VpdqFeature,
    frame=st.integers(0, 10**9),
    quality=st.integers(0, 100),
    pdq=hex_hashes,
    # The format keeps milliseconds: generate times that are whole milliseconds.
    timestamp=st.integers(0, 10**9).map(lambda ms: ms / 1000),
)


@given(st.lists(features, min_size=1, max_size=30))
def test_round_trip(items: list[VpdqFeature]) -> None:
    text = format_vpdq_text(items)
    assert text.count("\n") == len(items)
    assert parse_vpdq_text(text) == items
    assert format_vpdq_text(parse_vpdq_text(text)) == text


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=120))
def test_arbitrary_text_parses_or_raises_invalid_hash_error(text: str) -> None:
    try:
        parsed = parse_vpdq_text(text)
    except InvalidHashError:
        return
    assert parsed
    for feature in parsed:
        assert len(feature.pdq) == 64


@given(features, st.integers(0, 63), st.sampled_from(list("gxz-+ ,.G")))
def test_corrupted_hash_raises(feature: VpdqFeature, position: int, char: str) -> None:
    line = feature.to_line()
    start = line.index(feature.pdq)
    broken = line[: start + position] + char + line[start + position + 1 :]
    with pytest.raises(InvalidHashError):
        parse_vpdq_line(broken)


# --- the match rule --------------------------------------------------------------------------


def popcount_distance(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def brute_force(
    a: list[VpdqFeature],
    b: list[VpdqFeature],
    distance: int = 31,
    quality: int = 50,
    percent: float = 80.0,
    dedupe: bool = False,
) -> tuple[float, float, bool]:
    """The rule written out with Python integers, as the reference's loops do."""

    def usable(side: list[VpdqFeature]) -> list[VpdqFeature]:
        if dedupe:  # python-threatexchange: first occurrence of each hash, then the filter
            seen: set[str] = set()
            unique = []
            for f in side:
                if f.pdq not in seen:
                    seen.add(f.pdq)
                    unique.append(f)
            side = unique
        return [f for f in side if f.quality >= quality]

    qa, qb = usable(a), usable(b)
    if not qa or not qb:
        return 0.0, 0.0, False
    hits_a = sum(any(popcount_distance(x.pdq, y.pdq) <= distance for y in qb) for x in qa)
    hits_b = sum(any(popcount_distance(y.pdq, x.pdq) <= distance for x in qa) for y in qb)
    pa, pb = hits_a * 100.0 / len(qa), hits_b * 100.0 / len(qb)
    return pa, pb, pa >= percent and pb >= percent


def flip_bits(hex_hash: str, count: int, rng: random.Random) -> str:
    value = int(hex_hash, 16)
    for bit in rng.sample(range(256), count):
        value ^= 1 << bit
    return f"{value:064x}"


@st.composite
def videos(draw: st.DrawFn, bases: list[str]) -> list[VpdqFeature]:
    """Frames near a few shared base hashes, so distances fall on both sides of 31."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    size = draw(st.integers(0, 25))
    frames = []
    for index in range(size):
        base = bases[draw(st.integers(0, len(bases) - 1))]
        pdq = flip_bits(base, draw(st.integers(0, 48)), rng)
        frames.append(VpdqFeature(index, draw(st.integers(0, 100)), pdq, index / 30))
    return frames


@st.composite
def video_pairs(draw: st.DrawFn) -> tuple[list[VpdqFeature], list[VpdqFeature]]:
    bases = draw(st.lists(hex_hashes, min_size=1, max_size=3))
    return draw(videos(bases)), draw(videos(bases))


@settings(max_examples=200)
@given(video_pairs(), st.booleans())
def test_match_equals_brute_force_and_is_symmetric(
    pair: tuple[list[VpdqFeature], list[VpdqFeature]], dedupe: bool
) -> None:
    a, b = pair
    result = vpdq_match(a, b, dedupe=dedupe)
    expected = brute_force(a, b, dedupe=dedupe)
    assert (result.query_percent, result.target_percent, result.is_match) == expected
    swapped = vpdq_match(b, a, dedupe=dedupe)
    assert swapped.is_match == result.is_match
    assert (swapped.query_percent, swapped.target_percent) == (
        result.target_percent,
        result.query_percent,
    )
    # The blocked path (bounded memory for long videos) gives the same answer.
    with mock.patch.object(vpdq_module, "_BLOCK_PAIRS", 3):
        blocked = vpdq_match(a, b, dedupe=dedupe)
    assert blocked == result


@settings(max_examples=100)
@given(video_pairs())
def test_identical_lists_match_fully(pair: tuple[list[VpdqFeature], list[VpdqFeature]]) -> None:
    a, _ = pair
    result = vpdq_match(a, list(a))
    usable = sum(f.quality >= 50 for f in a)
    if usable:
        assert (result.query_percent, result.target_percent, result.is_match) == (
            100.0,
            100.0,
            True,
        )
        assert result.query_frames == result.target_frames == usable
    else:
        assert result == VpdqMatch(0.0, 0.0, False, 0, 0)


def test_distance_threshold_is_inclusive() -> None:
    rng = random.Random(7)
    base = [VpdqFeature(0, 100, HASH_A, 0.0)]
    at_31 = [VpdqFeature(0, 100, flip_bits(HASH_A, 31, rng), 0.0)]
    at_32 = [VpdqFeature(0, 100, flip_bits(HASH_A, 32, rng), 0.0)]
    assert popcount_distance(at_31[0].pdq, HASH_A) == 31
    assert vpdq_match(base, at_31).is_match
    assert not vpdq_match(base, at_32).is_match
    assert vpdq_match(base, at_32, distance_threshold=32).is_match


def test_percent_threshold_and_quality_filter() -> None:
    rng = random.Random(11)
    far = [flip_bits(HASH_A, 128, rng) for _ in range(5)]
    # Four of five usable frames match (80%: enough); the low-quality frame does not count.
    a = [VpdqFeature(i, 100, HASH_A, i / 30) for i in range(4)]
    a.append(VpdqFeature(4, 100, far[0], 4 / 30))
    a.append(VpdqFeature(5, 49, far[1], 5 / 30))
    b = [VpdqFeature(0, 100, HASH_A, 0.0)]
    result = vpdq_match(a, b)
    assert (result.query_percent, result.target_percent, result.is_match) == (80.0, 100.0, True)
    assert (result.query_frames, result.target_frames) == (5, 1)
    assert bool(result)
    assert not vpdq_match(a, b, match_percent=80.1)
    # With the low-quality frame counted, 4 of 6 match: no longer a match.
    lenient = vpdq_match(a, b, quality_threshold=0)
    assert lenient.query_percent == pytest.approx(400 / 6)
    assert not lenient


def test_no_usable_frames_is_no_match() -> None:
    low = [VpdqFeature(0, 10, HASH_A, 0.0)]
    good = [VpdqFeature(0, 100, HASH_A, 0.0)]
    assert vpdq_match(low, good) == VpdqMatch(0.0, 0.0, False, 0, 1)
    assert vpdq_match([], good) == VpdqMatch(0.0, 0.0, False, 0, 1)
    assert vpdq_match([], []) == VpdqMatch(0.0, 0.0, False, 0, 0)


def test_pdq_codes_pack_big_endian_words() -> None:
    codes = pdq_codes([VpdqFeature(0, 100, HASH_A, 0.0)])
    assert codes.shape == (1, 4)
    assert [f"{int(w):016x}" for w in codes[0]] == [HASH_A[i : i + 16] for i in range(0, 64, 16)]


# --- the rule on the reference's own hashes (every frame) ------------------------------------


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("chair-22-sd-grey-bar", True),
        ("chair-22-sd-sepia-bar", True),
        ("chair-22-with-small-logo-bar", True),
        ("chair-22-with-large-logo-bar", False),
        ("chair-19-sd-bar", True),
        ("chair-20-sd-bar", True),
        ("doorknob-hd-no-bar", False),
        ("pattern-sd-grey-bar", False),
    ],
)
def test_reference_hashes_match_as_expected(variant: str, expected: bool) -> None:
    original = reference_hashes("chair-orig-22-sd-bar")
    result = vpdq_match(reference_hashes(variant), original)
    assert result.is_match is expected, result
    assert vpdq_match(original, reference_hashes(variant)).is_match is expected
