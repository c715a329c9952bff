"""The deny-list: PDQ hashes of trivial or widely shared benign images, refused in any case.

A hash within :data:`~openncii.signals.pdq.MATCH_THRESHOLD` (31 bits) of an entry would match
countless harmless images (a black frame, a white page, a sky gradient), so it must never reach
the partners.

Limit: the PDQ of a flat image is mostly float noise (the DCT has almost no signal to rank), so
the same solid colour or gradient at another size can hash far from every entry. The list
catches the exact common cases; the quality rule (>= 50) keeps solid colours of any size out
(they score 0), but a linear black-to-white gradient scores 40 to 55 depending on its size, so at
uncommon sizes it can pass both rules: from the 256 bits alone a server cannot tell it apart.

The shipped list (``denylist_pdq.txt``, package data) holds all-zeros, all-ones and the hashes of
solid colours, gradients and simple two-tone patterns at common sizes, computed by
:func:`trivial_images` through the reference-exact PDQ; ``tests/test_cases_denylist.py`` checks it
is up to date. The helpline can add entries in a file named by ``OPENNCII_DENYLIST_EXTRA_PATH``.

File format: one 64-hex-digit PDQ hash per line, optionally followed by ``# comment``; blank lines
and lines starting with ``#`` are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from openncii.errors import ConfigurationError, InvalidHashError
from openncii.signals.pdq import MATCH_THRESHOLD, PdqHash, pdq_from_rgb

__all__ = [
    "SHIPPED_DENYLIST",
    "DenyList",
    "render_denylist",
    "trivial_images",
]

#: Resource name of the shipped deny-list inside ``openncii.cases``.
SHIPPED_DENYLIST: Final = "denylist_pdq.txt"
_ALL_ZEROS: Final = "0" * 64
_ALL_ONES: Final = "f" * 64
_SIZES: Final = (64, 256, 512, 1024, (480, 640), (640, 480), (1080, 1920), (1920, 1080))
_GREYS: Final = tuple(range(0, 256, 17))
_COLOURS: Final = (
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
    (0, 255, 255),
    (255, 0, 255),
    (255, 255, 0),
    (128, 0, 0),
    (0, 128, 0),
    (0, 0, 128),
)


@dataclass(frozen=True, slots=True)
class DenyList:
    """Hashes that no case may contain (nor anything within ``threshold`` bits of them)."""

    entries: tuple[int, ...]
    threshold: int = MATCH_THRESHOLD

    def __len__(self) -> int:
        return len(self.entries)

    def matches(self, pdq_hex: str) -> bool:
        """Whether the (valid, lowercase) PDQ hex is within ``threshold`` of an entry."""
        value = int(pdq_hex, 16)
        return any((value ^ entry).bit_count() <= self.threshold for entry in self.entries)

    @classmethod
    def parse(cls, lines: Iterable[str], source: str) -> DenyList:
        """Parse the file format; raise :class:`ConfigurationError` naming ``source`` and line."""
        entries: list[int] = []
        for number, raw in enumerate(lines, start=1):
            text = raw.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                entries.append(int(PdqHash.from_hex(text).hex, 16))
            except InvalidHashError as exc:
                raise ConfigurationError(f"{source}, line {number}: {exc}") from None
        return cls(entries=tuple(dict.fromkeys(entries)))

    @classmethod
    def load(cls, extra: Path | None = None) -> DenyList:
        """The shipped list, plus the entries of the ``extra`` file if given."""
        shipped = resources.files(__package__).joinpath(SHIPPED_DENYLIST).read_text("utf-8")
        denylist = cls.parse(shipped.splitlines(), SHIPPED_DENYLIST)
        if extra is None:
            return denylist
        try:
            text = Path(extra).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read the deny-list file {extra}: {exc}") from None
        added = cls.parse(text.splitlines(), str(extra))
        return cls(entries=tuple(dict.fromkeys(denylist.entries + added.entries)))


def _size(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else size


def _ramp(length: int) -> npt.NDArray[np.float64]:
    return np.linspace(0.0, 1.0, length)


def trivial_images(
    sizes: Iterable[int | tuple[int, int]] = _SIZES,
) -> Iterator[tuple[str, npt.NDArray[np.uint8]]]:
    """(description, RGB pixels) of the trivial images whose hashes form the shipped list."""
    for size in sizes:
        h, w = _size(size)
        tag = f"{w}x{h}"
        solids = [(f"grey {g}", (g, g, g)) for g in _GREYS] + [(f"colour {c}", c) for c in _COLOURS]
        for name, colour in solids:
            yield f"solid {name} {tag}", np.full((h, w, 3), colour, dtype=np.uint8)
        x = _ramp(w)[None, :]
        y = _ramp(h)[:, None]
        ramps = {
            "left-right": np.broadcast_to(x, (h, w)),
            "top-bottom": np.broadcast_to(y, (h, w)),
            "diagonal": (x + y) / 2,
            "anti-diagonal": (x[:, ::-1] + y) / 2,
        }
        for name, ramp in ramps.items():
            for direction, values in (("", ramp), (" reversed", 1.0 - ramp)):
                grey = np.rint(values * 255).astype(np.uint8)
                yield f"gradient {name}{direction} {tag}", np.repeat(grey[:, :, None], 3, axis=2)
        halves = {
            "left|right": np.broadcast_to(x >= 0.5, (h, w)),
            "top|bottom": np.broadcast_to(y >= 0.5, (h, w)),
        }
        for name, mask in halves.items():
            for direction, m in (("", mask), (" reversed", ~mask)):
                grey = np.where(m, 255, 0).astype(np.uint8)
                yield f"two-tone {name}{direction} {tag}", np.repeat(grey[:, :, None], 3, axis=2)


def render_denylist(images: Iterable[tuple[str, npt.NDArray[np.uint8]]]) -> str:
    """The shipped file's text for ``images`` (all-zeros and all-ones first, duplicates merged)."""
    lines = [
        "# OpenNCII PDQ deny-list: hashes of trivial images, refused (with anything within 31",
        "# bits) in every case. Generated by openncii.cases.denylist.trivial_images(); do not edit",
        "# by hand: extend it with OPENNCII_DENYLIST_EXTRA_PATH instead.",
        f"{_ALL_ZEROS}  # all zeros",
        f"{_ALL_ONES}  # all ones",
    ]
    seen = {_ALL_ZEROS, _ALL_ONES}
    for description, rgb in images:
        value = pdq_from_rgb(rgb).hex
        if value not in seen:
            seen.add(value)
            lines.append(f"{value}  # {description}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - maintenance: regenerate the shipped file
    target = Path(__file__).with_name(SHIPPED_DENYLIST)
    target.write_text(render_denylist(trivial_images()), "utf-8")
