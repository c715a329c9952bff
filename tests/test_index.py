"""openncii.index: exact Hamming range search, checked against brute force."""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openncii.errors import InvalidHashError
from openncii.index import (
    PDQIndex,
    backend,
    brute_force_search,
    codes_from_hashes,
    codes_from_hex,
    dihedral_codes,
    hex_from_codes,
)
from openncii.index import core as index_core
from openncii.signals.pdq import PdqHash, pdq_from_rgb

Codes = npt.NDArray[np.uint8]

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_codes(rng: np.random.Generator, n: int) -> Codes:
    return rng.integers(0, 256, size=(n, 32), dtype=np.uint8)


def flip_bits(rng: np.random.Generator, code: Codes, distance: int) -> Codes:
    bits = np.unpackbits(code)
    where = rng.choice(256, size=distance, replace=False)
    bits[where] ^= 1
    return np.packbits(bits)


def planted_queries(rng: np.random.Generator, codes: Codes, n_queries: int, around: int) -> Codes:
    """Half near a random row at distances around ``around``, half random."""
    queries = random_codes(rng, n_queries)
    if len(codes):
        for i in range(0, n_queries, 2):
            d = int(np.clip(around + rng.integers(-3, 4), 0, 256))
            queries[i] = flip_bits(rng, codes[rng.integers(len(codes))], d)
    return queries


def brute(
    codes: Codes, queries: Codes, threshold: int, removed: set[int] | None = None
) -> list[list[tuple[int, int]]]:
    out = brute_force_search(codes, queries, threshold)
    if removed:
        out = [[(r, d) for r, d in row if r not in removed] for row in out]
    return out


def test_the_compiled_kernel_is_the_normal_path() -> None:
    assert backend() == "c"


# ---------------------------------------------------------------------------------------------
# Property tests against brute force


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 400),
    threshold=st.integers(0, 64),
    tables=st.sampled_from([8, 9, 11, 16, 23]),
    prefix_bits=st.integers(1, 12),
)
def test_tables_match_brute_force(
    seed: int, n: int, threshold: int, tables: int, prefix_bits: int
) -> None:
    rng = np.random.default_rng(seed)
    codes = random_codes(rng, n)
    queries = planted_queries(rng, codes, 12, threshold)
    index = PDQIndex.build(codes, tables=tables, prefix_bits=prefix_bits)
    expected = brute(codes, queries, threshold)
    assert index.search(queries, threshold, method="tables") == expected
    assert index.search(queries, threshold, method="scan") == expected
    assert index.search(queries, threshold) == expected


@FAST
@given(seed=st.integers(0, 2**32 - 1), threshold=st.integers(0, 64))
def test_balanced_codes_with_neighbours_at_every_distance(seed: int, threshold: int) -> None:
    """PDQ-like codes (128 bits set), planted neighbours at distances 0..40."""
    rng = np.random.default_rng(seed)
    n = 300
    bits = np.argsort(rng.random((n, 256)), axis=1) < 128
    codes = np.packbits(bits, axis=1)
    queries = np.stack([flip_bits(rng, codes[i % n], i % 41) for i in range(41)])
    index = PDQIndex.build(codes, tables=11, prefix_bits=6)
    assert index.search(queries, threshold, method="tables") == brute(codes, queries, threshold)


def test_default_configuration_on_a_larger_index() -> None:
    rng = np.random.default_rng(7)
    codes = random_codes(rng, 20_000)
    index = PDQIndex.build(codes)
    assert index.n_tables >= 8
    queries = planted_queries(rng, codes, 60, 31)
    for threshold in (0, 15, 31, 32, 40, 64):
        expected = brute(codes, queries, threshold)
        assert index.search(queries, threshold) == expected
        assert index.search(queries, threshold, method="tables") == expected
    # The planted neighbours within 31 bits are all found.
    assert sum(len(m) for m in index.search(queries)) >= 10


@st.composite
def operations(draw: st.DrawFn) -> list[tuple[str, int]]:
    ops = st.one_of(
        st.tuples(st.just("add"), st.integers(0, 40)),
        st.tuples(st.just("remove"), st.integers(0, 10_000)),
        st.tuples(st.just("merge"), st.just(0)),
        st.tuples(st.just("search"), st.integers(0, 64)),
    )
    return draw(st.lists(ops, min_size=1, max_size=15))


@FAST
@given(seed=st.integers(0, 2**32 - 1), ops=operations(), n=st.integers(0, 200))
def test_add_remove_sequences_match_brute_force(
    seed: int, ops: list[tuple[str, int]], n: int
) -> None:
    rng = np.random.default_rng(seed)
    codes = random_codes(rng, n)
    index = PDQIndex.build(codes, tables=8, prefix_bits=4, merge_threshold=25)
    all_codes = codes.copy()
    removed: set[int] = set()
    for op, arg in ops:
        if op == "add":
            new = random_codes(rng, arg)
            if len(all_codes) and arg:
                new[0] = all_codes[rng.integers(len(all_codes))]  # a duplicate
            ids = index.add(new)
            assert ids.tolist() == list(range(len(all_codes), len(all_codes) + arg))
            all_codes = np.concatenate([all_codes, new])
        elif op == "remove" and len(all_codes):
            picked = {arg % len(all_codes), (arg * 7) % len(all_codes)}
            newly = index.remove(sorted(picked))
            assert newly == len(picked - removed)
            removed |= picked
        elif op == "merge":
            index.merge()
        queries = planted_queries(rng, all_codes, 6, 30)
        threshold = arg if op == "search" else 31
        expected = brute(all_codes, queries, threshold, removed)
        assert index.search(queries, threshold, method="tables") == expected
        assert index.search(queries, threshold) == expected
    assert len(index) == len(all_codes) - len(removed)
    assert index.n_rows == len(all_codes)


@FAST
@given(seed=st.integers(0, 2**32 - 1), threshold=st.integers(0, 64))
def test_dihedral_search_reports_the_best_distance_per_row(seed: int, threshold: int) -> None:
    rng = np.random.default_rng(seed)
    codes = random_codes(rng, 150)
    variants = np.stack([planted_queries(rng, codes, 8, threshold) for _ in range(5)])
    index = PDQIndex.build(codes, tables=8, prefix_bits=5)
    got = index.search_dihedral(variants, threshold, method="tables")
    for q in range(len(variants)):
        best: dict[int, int] = {}
        for matches in brute(codes, variants[q], threshold):
            for row, d in matches:
                best[row] = min(d, best.get(row, 999))
        assert got[q] == sorted(best.items(), key=lambda item: (item[1], item[0]))


def test_dihedral_queries_find_a_rotated_image() -> None:
    rng = np.random.default_rng(3)
    small = rng.integers(0, 256, size=(12, 16, 3)).astype(np.float32)
    image = np.kron(small, np.ones((8, 8, 1), dtype=np.float32)).astype(np.uint8)  # 96 x 128
    original = pdq_from_rgb(image)
    rotated = pdq_from_rgb(np.ascontiguousarray(np.rot90(image)))
    others = random_codes(rng, 100)
    index = PDQIndex.build(np.concatenate([others, codes_from_hashes([original])]))
    plain = index.search(codes_from_hashes([rotated]))
    assert all(row != 100 for row, _ in plain[0])
    found = index.search_dihedral(dihedral_codes([rotated]))
    assert found[0] and found[0][0][0] == 100
    assert found[0][0][1] <= 31


# ---------------------------------------------------------------------------------------------
# Edge cases


def test_empty_index_and_empty_queries() -> None:
    empty = PDQIndex.build(np.empty((0, 32), dtype=np.uint8))
    assert len(empty) == 0
    queries = random_codes(np.random.default_rng(0), 3)
    assert empty.search(queries) == [[], [], []]
    assert empty.search(np.empty((0, 32), dtype=np.uint8)) == []
    assert PDQIndex().search(queries, 64) == [[], [], []]
    assert empty.search_dihedral(np.empty((0, 8, 32), dtype=np.uint8)) == []


def test_duplicates_are_all_reported() -> None:
    rng = np.random.default_rng(1)
    code = random_codes(rng, 1)
    codes = np.concatenate([random_codes(rng, 50), code, code, random_codes(rng, 50), code])
    index = PDQIndex.build(codes, tables=8, prefix_bits=3)
    assert index.search(code, 0, method="tables") == [[(50, 0), (51, 0), (102, 0)]]
    index.remove([51])
    assert index.search(code, 0) == [[(50, 0), (102, 0)]]


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((3, 31), dtype=np.uint8),
        np.zeros((3, 32), dtype=np.int64),
        np.zeros(32, dtype=np.uint8),
        np.zeros((2, 3, 32), dtype=np.uint8),
        [[0] * 32],
    ],
)
def test_bad_codes_are_rejected(bad: object) -> None:
    with pytest.raises(InvalidHashError):
        PDQIndex.build(bad)  # type: ignore[arg-type]
    index = PDQIndex.build(np.zeros((1, 32), dtype=np.uint8))
    with pytest.raises(ValueError, match="must"):
        index.search(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must"):
        index.add(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("threshold", [-1, 257, True, 3.5])
def test_bad_thresholds_are_rejected(threshold: object) -> None:
    index = PDQIndex.build(np.zeros((1, 32), dtype=np.uint8))
    with pytest.raises(ValueError, match="threshold"):
        index.search(np.zeros((1, 32), dtype=np.uint8), threshold)  # type: ignore[arg-type]


def test_thresholds_past_64_are_exact_too() -> None:
    rng = np.random.default_rng(5)
    codes = random_codes(rng, 500)
    queries = random_codes(rng, 4)
    index = PDQIndex.build(codes, tables=8, prefix_bits=4)
    for threshold in (100, 128, 256):
        assert index.search(queries, threshold) == brute(codes, queries, threshold)
    assert all(len(m) == 500 for m in index.search(queries, 256))


def test_remove_unknown_rows_and_bad_options() -> None:
    index = PDQIndex.build(np.zeros((5, 32), dtype=np.uint8))
    with pytest.raises(IndexError):
        index.remove([5])
    with pytest.raises(IndexError):
        index.remove([-1])
    assert index.remove([]) == 0
    assert index.remove(np.array([1, 1, 2])) == 2
    assert index.remove([2]) == 0
    assert index.is_removed(1) and not index.is_removed(0)
    with pytest.raises(ValueError, match="integers"):
        index.remove(np.array([1.5]))
    with pytest.raises(ValueError, match="tables"):
        PDQIndex(tables=5)
    with pytest.raises(ValueError, match="method"):
        index.search(np.zeros((1, 32), dtype=np.uint8), method="fast")  # type: ignore[arg-type]
    with pytest.raises(InvalidHashError):
        index.search_dihedral(np.zeros((1, 32), dtype=np.uint8))


def test_the_index_keeps_its_own_copy() -> None:
    codes = np.zeros((2, 32), dtype=np.uint8)
    index = PDQIndex.build(codes)
    codes[0] = 255
    assert index.search(np.zeros((1, 32), dtype=np.uint8), 0) == [[(0, 0), (1, 0)]]
    assert index.code(0).tolist() == [0] * 32


# ---------------------------------------------------------------------------------------------
# Hex, bit order and the numpy fallback


def test_hex_round_trip_and_bit_order() -> None:
    h = PdqHash.from_hex("f" + "0" * 63)
    assert codes_from_hex([h.hex]).tolist() == [h.as_code().tolist()]
    assert codes_from_hex([h.hex])[0, 0] == 0xF0
    hexes = hex_from_codes(random_codes(np.random.default_rng(2), 5))
    assert hex_from_codes(codes_from_hex(hexes)) == hexes
    assert codes_from_hex([]).shape == (0, 32)
    # One hex digit differs by one bit: distance 1.
    index = PDQIndex.build(codes_from_hex(["0" * 64]))
    assert index.search(codes_from_hex(["0" * 63 + "8"]), 1) == [[(0, 1)]]
    assert index.search(codes_from_hex(["0" * 63 + "8"]), 0) == [[]]
    with pytest.raises(InvalidHashError):
        codes_from_hex(["abc"])
    with pytest.raises(InvalidHashError):
        codes_from_hex(["z" * 64])
    with pytest.raises(InvalidHashError):
        codes_from_hex(["00 " * 21 + "0"])
    assert codes_from_hex(["AB" * 32])[0, 0] == 0xAB


def test_numpy_fallback_gives_the_same_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    codes = random_codes(rng, 300)
    queries = planted_queries(rng, codes, 10, 20)
    index = PDQIndex.build(codes, tables=8, prefix_bits=4)
    index.remove([0, 5])
    index.add(random_codes(rng, 3))
    expected = index.search(queries, 25)
    monkeypatch.setattr(index_core, "_mih", None)
    assert backend() == "numpy"
    assert index.search(queries, 25) == expected


def test_searches_in_another_thread_see_a_consistent_index_during_updates() -> None:
    rng = np.random.default_rng(13)
    codes = random_codes(rng, 6000)
    index = PDQIndex.build(codes, merge_threshold=300)
    query = flip_bits(rng, codes[1234], 10)[None, :]
    stop = threading.Event()
    failures: list[object] = []

    def search_forever() -> None:
        while not stop.is_set():
            found = index.search(query)
            if (1234, 10) not in found[0]:
                failures.append(found)

    worker = threading.Thread(target=search_forever)
    worker.start()
    try:
        for _ in range(8):
            ids = index.add(random_codes(rng, 200))
            index.remove(ids[:50])
    finally:
        stop.set()
        worker.join()
    assert not failures
    assert index.search(query) == brute(
        np.stack([index.code(r) for r in range(index.n_rows)]), query, 31
    )
