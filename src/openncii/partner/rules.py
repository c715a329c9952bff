"""Which query hashes of a scanned image may match which bank hashes, and at what distance.

The pair rule itself has one home, :func:`openncii.signals.variants.pair_threshold` (a query
hash of one kind against an enrolled hash of another kind, each pair with its threshold). A
scan adds three things around it:

- the query set of one image (:func:`query_hashes`): its PDQ as kind ``full``, the 7 other
  dihedral variants of that PDQ (rotations and mirrorings, from its DCT) as kind ``dihedral``,
  then the robust query variants (:func:`openncii.signals.variants.query_variants`), each hash
  once per kind;
- the distance an index is searched at (:func:`search_distance`);
- the operator's ``--threshold``, which can only make a pair stricter (:func:`pair_limit`).

No web or database imports: the same rules run in a worker process or a Spark executor.
"""

from __future__ import annotations

from collections.abc import Sequence

from openncii.signals.variants import SEARCH_THRESHOLD, Kind, pair_threshold

__all__ = ["BANK_KINDS", "pair_limit", "query_hashes", "search_distance"]

#: The kinds a bank record may have, in a fixed order (a bank stores each PDQ record's kind as
#: its position here).
BANK_KINDS: tuple[Kind, ...] = tuple(Kind)


def search_distance(threshold: int) -> int:
    """The distance to search an index at: no pair matches beyond it."""
    return min(threshold, SEARCH_THRESHOLD)


def pair_limit(query: Kind | str, bank: Kind | str, threshold: int) -> int | None:
    """The largest distance at which a query hash of kind ``query`` matches a bank hash of kind
    ``bank``: the pair rule's threshold, lowered to ``threshold``; None when never compared."""
    limit = pair_threshold(query, bank)
    return None if limit is None else min(limit, threshold)


def query_hashes(
    pdq: str | None,
    dihedral: Sequence[str],
    variants: Sequence[str],
    variant_kinds: Sequence[str],
) -> list[tuple[str, Kind]]:
    """The query set of one image as ``(hex, kind)`` pairs, each hash once per kind.

    ``pdq`` is the image's PDQ (kind ``full``; None when its quality is too low to match);
    ``dihedral`` its 8 dihedral variants, original first (the 7 others are kind ``dihedral``);
    ``variants`` and ``variant_kinds`` the robust query variants and their kinds.
    """
    out: list[tuple[str, Kind]] = []
    seen: set[tuple[str, Kind]] = set()

    def add(value: str, kind: Kind) -> None:
        if (value, kind) not in seen:
            seen.add((value, kind))
            out.append((value, kind))

    if pdq is not None:
        add(pdq, Kind.FULL)
        for value in dihedral[1:]:
            add(value, Kind.DIHEDRAL)
    for value, kind in zip(variants, variant_kinds, strict=True):
        add(value, Kind(kind))
    return out
