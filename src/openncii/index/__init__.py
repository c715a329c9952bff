"""Exact Hamming range search over PDQ hashes (multi-index hashing, compiled kernel).

No web or database imports here: this is core library code, usable on a laptop.
"""

from __future__ import annotations

from openncii.index.core import (
    CODE_BYTES,
    DEFAULT_THRESHOLD,
    PDQIndex,
    SearchArrays,
    backend,
    brute_force_search,
    codes_from_hashes,
    codes_from_hex,
    dihedral_codes,
    hex_from_codes,
)

__all__ = [
    "CODE_BYTES",
    "DEFAULT_THRESHOLD",
    "PDQIndex",
    "SearchArrays",
    "backend",
    "brute_force_search",
    "codes_from_hashes",
    "codes_from_hex",
    "dihedral_codes",
    "hex_from_codes",
]
