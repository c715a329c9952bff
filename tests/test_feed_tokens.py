"""Property tests: page tokens (round trip, tampering, garbage) and request validation of the
partner API (no input gets a 5xx; bad input gets a JSON 4xx)."""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openncii.errors import PageTokenError
from openncii.feed import PageToken, decode_page_token, encode_page_token
from partner_helpers import FEEDBACK, FETCH, SUBMIT, key_headers, new_partner

SECRET = b"s" * 32
I64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
TOKENS = st.builds(
    PageToken,
    partner_id=st.integers(min_value=0, max_value=2**32 - 1),
    start=I64,
    base=I64,
    seq=I64,
    row_id=I64,
    expires=st.integers(min_value=0, max_value=2**62),
)


@given(TOKENS)
def test_a_token_opens_to_what_was_sealed(token: PageToken) -> None:
    text = encode_page_token(SECRET, token)
    assert text.isascii() and len(text) < 200
    opened = decode_page_token(
        SECRET, text, partner_id=token.partner_id, start=token.start, now=token.expires
    )
    assert opened == token


@given(TOKENS, st.data())
def test_any_changed_character_is_refused(token: PageToken, data: st.DataObject) -> None:
    text = encode_page_token(SECRET, token)
    where = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    alphabet = string.ascii_letters + string.digits + "-_"
    other = data.draw(st.sampled_from(alphabet).filter(lambda c: c != text[where]))
    changed = text[:where] + other + text[where + 1 :]
    with pytest.raises(PageTokenError):
        decode_page_token(SECRET, changed, partner_id=token.partner_id, start=token.start, now=0)


@given(TOKENS, st.binary(min_size=1, max_size=64).filter(lambda b: b != SECRET))
def test_another_secret_is_refused(token: PageToken, secret: bytes) -> None:
    text = encode_page_token(secret, token)
    with pytest.raises(PageTokenError):
        decode_page_token(SECRET, text, partner_id=token.partner_id, start=token.start, now=0)


@given(TOKENS, st.integers(min_value=1, max_value=2**20))
def test_expired_wrong_partner_or_start_is_refused(token: PageToken, delta: int) -> None:
    text = encode_page_token(SECRET, token)
    for partner_id, start, now in (
        (token.partner_id, token.start, token.expires + delta),
        ((token.partner_id + delta) % 2**32, token.start, 0),
        (token.partner_id, token.start ^ delta, 0),
    ):
        with pytest.raises(PageTokenError):
            decode_page_token(SECRET, text, partner_id=partner_id, start=start, now=now)


@given(st.text(max_size=120) | st.text(alphabet=string.ascii_letters + "-_", max_size=120))
def test_garbage_raises_only_page_token_errors(text: str) -> None:
    with pytest.raises(PageTokenError):
        decode_page_token(SECRET, text, partner_id=1, start=0, now=0)


# --------------------------------------------------------------------------------------------------
# Request validation over HTTP (SQLite and PostgreSQL)
# --------------------------------------------------------------------------------------------------

PARAM_TEXT = (
    st.none()
    | st.integers(min_value=-(2**70), max_value=2**70).map(str)
    | st.text(max_size=30)
    | st.sampled_from(
        ["", " ", "0", "1e3", "0x10", "٣", "1_000", "+5", "-0", "99999999999999999999"]
    )
)
_NO_HEALTH = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def partner_client(api_client: Callable[..., Any], db_sessions: Any) -> tuple[Any, str]:
    client = api_client()
    key = new_partner(db_sessions, "Acme", can_submit=True)
    return client, key


@_NO_HEALTH
@given(start=PARAM_TEXT, size=PARAM_TEXT, token=PARAM_TEXT)
def test_fetch_parameters_never_cause_a_5xx(
    partner_client: tuple[Any, str], start: str | None, size: str | None, token: str | None
) -> None:
    client, key = partner_client
    params = {
        k: v
        for k, v in (("startTimestamp", start), ("pageSize", size), ("nextPageToken", token))
        if v is not None
    }
    response = client.get(FETCH, params=params, headers=key_headers(key))
    assert response.status_code in (200, 400, 422), response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    if response.status_code == 200:
        assert body["count"] == len(body["hashRecords"])
    else:
        assert body["detail"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
FEEDBACK_ITEM = st.fixed_dictionaries(
    {
        "hashValue": st.text(max_size=70) | st.sampled_from(["ab" * 32, "cd" * 16, "0,50,aa,0"]),
        "feedbackValue": st.sampled_from(["Blocked", "None", "Nope", ""]) | st.text(max_size=5),
    },
    optional={"tags": st.lists(st.text(max_size=120), max_size=25) | JSON},
)
HASH_ITEM = st.fixed_dictionaries(
    {
        "signalType": st.sampled_from(["ImagePDQ", "VideoMD5", "VideoTMK", "x"]),
        "hashValue": st.text(alphabet="0123456789abcdef", min_size=30, max_size=66),
    },
    optional={
        "CSPFeedbacks": st.lists(st.fixed_dictionaries({"feedbackValue": st.text(max_size=15)}))
    },
)


@_NO_HEALTH
@given(
    path=st.sampled_from([FEEDBACK, SUBMIT]),
    body=JSON
    | st.fixed_dictionaries(
        {"count": st.integers(-2, 5), "hashFeedbacks": st.lists(FEEDBACK_ITEM, max_size=4)}
    )
    | st.fixed_dictionaries(
        {"count": st.integers(-2, 5), "hashRecords": st.lists(HASH_ITEM, max_size=4)}
    ),
)
def test_bodies_never_cause_a_5xx(partner_client: tuple[Any, str], path: str, body: Any) -> None:
    client, key = partner_client
    response = client.post(path, json=body, headers=key_headers(key))
    assert response.status_code in (200, 400, 422), response.text
    assert response.headers["content-type"] == "application/json"
