"""The shipped deny-list: up to date with its generator, extendable by the helpline, and (with the
quality rule) keeping trivial images out of every case."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from case_helpers import CASES, case_body, pdq_item, random_pdq
from openncii.cases.denylist import SHIPPED_DENYLIST, DenyList, render_denylist, trivial_images
from openncii.cases.validation import PdqSubmission, validate_hashes
from openncii.errors import ConfigurationError, HashRejectedError
from openncii.signals.pdq import pdq_from_rgb


def _shipped_text() -> str:
    return resources.files("openncii.cases").joinpath(SHIPPED_DENYLIST).read_text("utf-8")


def test_shipped_file_is_what_the_generator_makes() -> None:
    """Regenerating two of the sizes gives lines of the shipped file (the full run takes ~10 s:
    ``python -m openncii.cases.denylist`` rewrites the file)."""
    shipped = _shipped_text().splitlines()
    regenerated = render_denylist(trivial_images(sizes=[64, (480, 640)])).splitlines()
    assert regenerated[:5] == shipped[:5]
    shipped_values = {line.split()[0] for line in shipped[3:]}
    missing = [line for line in regenerated[5:] if line.split()[0] not in shipped_values]
    assert missing == []
    assert len(regenerated) > 40


def test_shipped_list_holds_zeros_ones_solids_and_gradients() -> None:
    text = _shipped_text()
    denylist = DenyList.load()
    assert len(denylist) >= 100
    assert 0 in denylist.entries
    assert 2**256 - 1 in denylist.entries
    assert "solid grey 255 64x64" in text
    assert "gradient left-right 640x480" in text
    black = np.zeros((480, 640, 3), dtype=np.uint8)
    assert denylist.matches(pdq_from_rgb(black).hex)
    white = np.full((1080, 1920, 3), 255, dtype=np.uint8)
    assert denylist.matches(pdq_from_rgb(white).hex)


@given(
    st.integers(5, 700),
    st.integers(5, 700),
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_solid_colours_of_any_size_never_enter_a_case(
    height: int, width: int, colour: tuple[int, int, int]
) -> None:
    """The PDQ of a flat image is float noise, so the list cannot hold every size: what keeps
    solid colours out at any size is the quality rule (they score 0)."""
    pdq = pdq_from_rgb(np.full((height, width, 3), colour, dtype=np.uint8))
    assert pdq.quality < 50
    with pytest.raises(HashRejectedError):
        validate_hashes([PdqSubmission(pdq.hex, pdq.quality)], DenyList.load(), 200)


@pytest.mark.parametrize("size", [(64, 64), (480, 640), (1080, 1920)])
@pytest.mark.parametrize("kind", ["left-right", "top-bottom", "diagonal"])
def test_gradients_at_common_sizes_are_refused_whatever_quality_is_claimed(
    size: tuple[int, int], kind: str
) -> None:
    height, width = size
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    ramp = {"left-right": x + 0 * y, "top-bottom": y + 0 * x, "diagonal": (x + y) / 2}[kind]
    grey = np.rint(ramp * 255).astype(np.uint8)
    pdq = pdq_from_rgb(np.stack([grey] * 3, axis=2))
    with pytest.raises(HashRejectedError, match="single-colour or gradient"):
        validate_hashes([PdqSubmission(pdq.hex, 100)], DenyList.load(), 200)


def test_extra_file_extends_the_list(tmp_path: Path) -> None:
    banned = random_pdq()
    extra = tmp_path / "extra.txt"
    extra.write_text(f"# the helpline's own\n\n{banned.upper()}  # a meme\n", "utf-8")
    denylist = DenyList.load(extra)
    assert len(denylist) == len(DenyList.load()) + 1
    assert denylist.matches(banned)


def test_bad_extra_file_is_a_configuration_error(tmp_path: Path) -> None:
    extra = tmp_path / "extra.txt"
    extra.write_text("abc\n", "utf-8")
    with pytest.raises(ConfigurationError, match=r"extra.txt, line 1"):
        DenyList.load(extra)
    with pytest.raises(ConfigurationError, match="cannot read"):
        DenyList.load(tmp_path / "missing.txt")


def test_helpline_extra_list_applies_to_the_api(
    api_client: Callable[..., Any], tmp_path: Path
) -> None:
    banned = random_pdq()
    extra = tmp_path / "extra.txt"
    extra.write_text(banned + "\n", "utf-8")
    client = api_client(denylist_extra_path=extra)
    response = client.post(CASES, json=case_body(pdq_item(banned)))
    assert response.status_code == 422
    assert response.json()["code"] == "hash_rejected"
    assert client.post(CASES, json=case_body(pdq_item())).status_code == 201
