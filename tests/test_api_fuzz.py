"""Fuzzing the victim API from its own OpenAPI schema: no input ever gets a 5xx.

Bodies come from hypothesis strategies built from the request schemas published at
``/openapi.json`` (valid shapes, so the domain validators are reached; a small JSON-Schema
subset converter below, as hypothesis-jsonschema 0.23 does not work with current hypothesis),
and from arbitrary JSON and bytes (so the parsers are). One app and database per backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from case_helpers import CASES, ELIGIBLE, STATUS, WITHDRAW

FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=20,
)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid under ``schema`` (the subset pydantic emits for these models)."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return st.one_of([from_schema(s) for s in schema[key]])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(
            schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
        )
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True).filter(
                lambda v: len(v) <= schema.get("maxLength", 10**6)
            )
        hexlike = st.text("0123456789abcdefABCDEF", min_size=30, max_size=66)
        return hexlike | st.text(max_size=schema.get("maxLength", 100))
    if kind == "array":
        return st.lists(
            from_schema(schema["items"]),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 10), 10),
        )
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: from_schema(v) for k, v in properties.items() if k in required},
            optional={k: from_schema(v) for k, v in properties.items() if k not in required},
        )
    raise AssertionError(f"schema construct not covered: {schema}")


def _resolved(schema: Any, components: dict[str, Any]) -> Any:
    """Inline ``#/components/schemas/...`` references (the schemas here are not recursive)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _resolved(components[schema["$ref"].rsplit("/", 1)[-1]], components)
        return {k: _resolved(v, components) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolved(v, components) for v in schema]
    return schema


def _request_schema(openapi: dict[str, Any], path: str) -> dict[str, Any]:
    body = openapi["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    resolved: dict[str, Any] = _resolved(body, openapi["components"]["schemas"])
    return resolved


@pytest.fixture
def fuzz_client(api_client: Callable[..., Any]) -> Any:
    return api_client(max_hashes_per_case=50)


def _assert_no_5xx(response: Any) -> None:
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "x-content-type-options" in response.headers


@pytest.mark.parametrize("path", [CASES, STATUS, WITHDRAW])
def test_schema_shaped_bodies_never_get_a_5xx(fuzz_client: Any, path: str) -> None:
    schema = _request_schema(fuzz_client.get("/openapi.json").json(), path)
    if path == CASES:  # keep the hash lists small so that examples stay fast
        schema["properties"]["hashes"]["maxItems"] = 8
        vpdq = next(
            s
            for s in schema["properties"]["hashes"]["items"]["oneOf"]
            if s["properties"]["type"].get("const") == "vpdq"
        )
        vpdq["properties"]["frames"]["maxItems"] = 4
    seen: set[int] = set()

    @FUZZ_SETTINGS
    @given(from_schema(schema))
    def run(body: Any) -> None:
        response = fuzz_client.post(path, json=body)
        seen.add(response.status_code)
        _assert_no_5xx(response)

    run()
    assert seen <= {201, 200, 401, 422, 429}
    assert 422 in seen or 401 in seen


def test_eligible_cases_with_schema_shaped_hashes_get_201_or_a_clear_422(fuzz_client: Any) -> None:
    schema = _request_schema(fuzz_client.get("/openapi.json").json(), CASES)
    item_schema = schema["properties"]["hashes"]["items"]
    for sub in item_schema["oneOf"]:
        if "frames" in sub["properties"]:
            sub["properties"]["frames"]["maxItems"] = 4
    codes: dict[int, int] = {}

    @FUZZ_SETTINGS
    @given(st.lists(from_schema(item_schema), min_size=1, max_size=6))
    def run(hashes: list[Any]) -> None:
        response = fuzz_client.post(CASES, json={"eligibility": ELIGIBLE, "hashes": hashes})
        codes[response.status_code] = codes.get(response.status_code, 0) + 1
        _assert_no_5xx(response)
        if response.status_code == 422:
            assert response.json()["code"] in {"hash_rejected", "invalid_request"}
            assert response.json()["detail"]

    run()
    assert set(codes) <= {201, 422}


@FUZZ_SETTINGS
@given(path=st.sampled_from([CASES, STATUS, WITHDRAW]), body=json_values)
def test_arbitrary_json_never_gets_a_5xx(fuzz_client: Any, path: str, body: Any) -> None:
    response = fuzz_client.post(path, json=body)
    _assert_no_5xx(response)
    assert response.status_code in {401, 422}


@FUZZ_SETTINGS
@given(path=st.sampled_from([CASES, STATUS, WITHDRAW]), raw=st.binary(max_size=300))
def test_arbitrary_bytes_never_get_a_5xx(fuzz_client: Any, path: str, raw: bytes) -> None:
    response = fuzz_client.post(path, content=raw, headers={"content-type": "application/json"})
    _assert_no_5xx(response)
    try:
        json.loads(raw)
    except ValueError:
        assert response.status_code in {400, 422}
        assert response.json()["code"] == "invalid_request"
