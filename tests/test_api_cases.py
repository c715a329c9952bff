"""The victim API end to end: open a case, check it, withdraw it; refusals are kind 4xx."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from case_helpers import (
    CASES,
    ELIGIBLE,
    PARTNERS,
    STATUS,
    WITHDRAW,
    case_body,
    md5_item,
    pdq_item,
    photo_item,
    random_pdq,
    vpdq_item,
)
from openncii.cases.numbers import CASE_NUMBER_ALPHABET
from openncii.db.models import HASH_ACTIVE, HASH_WITHDRAWN, Case, CaseHash, HashRecord
from openncii.partners import add_partner, record_feedback

ApiClient = Callable[..., Any]
CASE_NUMBER_RE = re.compile(
    rf"[{CASE_NUMBER_ALPHABET}]{{4}}-[{CASE_NUMBER_ALPHABET}]{{4}}-"
    rf"[{CASE_NUMBER_ALPHABET}]{{4}}"
)


def _count(sessions: Any, model: Any) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_create_answers_201_with_case_number_and_pin(api_client: ApiClient) -> None:
    response = api_client().post(CASES, json=case_body(pdq_item(), md5_item(), vpdq_item()))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"case_number", "pin", "hash_count", "file_count"}
    assert CASE_NUMBER_RE.fullmatch(body["case_number"])
    assert re.fullmatch(r"[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{4}", body["pin"])
    assert body["hash_count"] == 3


def test_status_shows_hashes_by_type_and_prefix(api_client: ApiClient) -> None:
    client = api_client()
    pdq, md5 = pdq_item(), md5_item()
    created = client.post(CASES, json=case_body(pdq, md5)).json()
    response = client.post(
        STATUS, json={"case_number": created["case_number"], "pin": created["pin"]}
    )
    assert response.status_code == 200
    status = response.json()
    assert status["case_number"] == created["case_number"]
    assert status["status"] == "active"
    assert status["withdrawn_at"] is None
    assert datetime.fromisoformat(status["created_at"]).tzinfo is not None
    assert [(h["type"], h["prefix"]) for h in status["hashes"]] == [
        ("pdq", pdq["value"][:8]),
        ("md5", md5["value"][:8]),
    ]
    assert all(h["outcomes"] == [] for h in status["hashes"])


def test_case_number_is_accepted_in_any_case_and_spacing(api_client: ApiClient) -> None:
    client = api_client()
    created = client.post(CASES, json=case_body()).json()
    typed = " " + created["case_number"].lower().replace("-", " ") + " "
    response = client.post(STATUS, json={"case_number": typed, "pin": created["pin"]})
    assert response.status_code == 200


def test_hashes_are_normalised_to_lowercase_and_deduplicated(
    api_client: ApiClient, db_sessions: Any
) -> None:
    value = random_pdq()
    body = case_body(pdq_item(value.upper()), pdq_item(value), md5_item("AB" * 16))
    response = api_client().post(CASES, json=body)
    assert response.status_code == 201
    assert response.json()["hash_count"] == 2
    sessions = db_sessions
    with sessions() as session:
        stored = set(session.execute(select(HashRecord.signal_type, HashRecord.value)))
    assert stored == {("pdq", value), ("md5", "ab" * 16)}


def test_status_shows_partner_outcomes(api_client: ApiClient, db_sessions: Any) -> None:
    client = api_client()
    pdq = pdq_item()
    created = client.post(CASES, json=case_body(pdq, md5_item())).json()
    sessions = db_sessions
    when = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    with sessions() as session:
        acme = add_partner(session, "Acme Social", when).partner
        zeta = add_partner(session, "Zeta Video", when).partner
        assert record_feedback(session, acme.id, "pdq", pdq["value"], "Blocked", ["nudity"], when)
        assert record_feedback(session, zeta.id, "pdq", pdq["value"], "PendingReview", [], when)
    status = client.post(
        STATUS, json={"case_number": created["case_number"], "pin": created["pin"]}
    ).json()
    outcomes = status["hashes"][0]["outcomes"]
    assert [(o["partner"], o["outcome"]) for o in outcomes] == [
        ("Acme Social", "Blocked"),
        ("Zeta Video", "PendingReview"),
    ]
    assert datetime.fromisoformat(outcomes[0]["at"]) == when
    assert status["hashes"][1]["outcomes"] == []


def test_withdraw_marks_case_and_hashes_withdrawn(api_client: ApiClient, db_sessions: Any) -> None:
    client = api_client()
    created = client.post(CASES, json=case_body(pdq_item(), md5_item())).json()
    credentials = {"case_number": created["case_number"], "pin": created["pin"]}
    response = client.post(WITHDRAW, json=credentials)
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert response.json()["withdrawn_at"] is not None
    again = client.post(WITHDRAW, json=credentials)
    assert again.status_code == 200
    assert again.json()["withdrawn_at"] == response.json()["withdrawn_at"]
    assert client.post(STATUS, json=credentials).json()["status"] == "withdrawn"
    sessions = db_sessions
    with sessions() as session:
        assert set(session.scalars(select(HashRecord.status))) == {HASH_WITHDRAWN}


def test_withdrawal_keeps_hash_active_while_another_case_holds_it(
    api_client: ApiClient, db_sessions: Any
) -> None:
    client = api_client()
    shared, own = pdq_item(), pdq_item()
    first = client.post(CASES, json=case_body(shared, own)).json()
    second = client.post(CASES, json=case_body(dict(shared))).json()
    assert second["hash_count"] == 1
    sessions = db_sessions
    with sessions() as session:
        seq_before = dict(session.execute(select(HashRecord.value, HashRecord.feed_seq)).all())
    client.post(WITHDRAW, json={"case_number": first["case_number"], "pin": first["pin"]})
    with sessions() as session:
        rows = {
            v: (st, q)
            for v, st, q in session.execute(
                select(HashRecord.value, HashRecord.status, HashRecord.feed_seq)
            )
        }
    assert rows[shared["value"]][0] == HASH_ACTIVE
    assert rows[own["value"]][0] == HASH_WITHDRAWN
    # Both records changed (one withdrawn, one lost a case reference): both move forward.
    assert rows[shared["value"]][1] > seq_before[shared["value"]]
    assert rows[own["value"]][1] > seq_before[own["value"]]
    # Once the second case goes too, the shared hash is withdrawn.
    client.post(WITHDRAW, json={"case_number": second["case_number"], "pin": second["pin"]})
    with sessions() as session:
        assert (
            session.scalar(select(HashRecord.status).where(HashRecord.value == shared["value"]))
            == HASH_WITHDRAWN
        )


def test_a_new_case_reactivates_a_withdrawn_hash(api_client: ApiClient, db_sessions: Any) -> None:
    client = api_client()
    item = pdq_item()
    first = client.post(CASES, json=case_body(item)).json()
    client.post(WITHDRAW, json={"case_number": first["case_number"], "pin": first["pin"]})
    client.post(CASES, json=case_body(dict(item)))
    sessions = db_sessions
    with sessions() as session:
        row = session.execute(select(HashRecord.status, HashRecord.withdrawn_at)).one()
    assert row == (HASH_ACTIVE, None)


def test_partner_reference_is_opaque_and_pin_is_stored_hashed(
    api_client: ApiClient, db_sessions: Any
) -> None:
    created = api_client().post(CASES, json=case_body()).json()
    sessions = db_sessions
    with sessions() as session:
        case = session.scalars(select(Case)).one()
    digits = created["case_number"].replace("-", "")
    assert case.number == digits
    assert re.fullmatch(r"[0-9a-f]{32}", case.partner_ref)
    assert digits.lower() not in case.partner_ref
    assert case.pin_hash.startswith("$argon2id$")
    assert created["pin"].replace("-", "") not in case.pin_hash


def test_feed_sequence_grows_with_every_case(api_client: ApiClient, db_sessions: Any) -> None:
    client = api_client()
    for _ in range(3):
        client.post(CASES, json=case_body())
    sessions = db_sessions
    with sessions() as session:
        seqs = sorted(session.scalars(select(HashRecord.feed_seq)))
    assert seqs == [1, 2, 3]


def test_language_is_stored(api_client: ApiClient, db_sessions: Any) -> None:
    assert api_client().post(CASES, json=case_body(language="nl-BE")).status_code == 201
    sessions = db_sessions
    with sessions() as session:
        assert session.scalar(select(Case.language)) == "nl-BE"


def test_partners_lists_public_names_of_active_partners(
    api_client: ApiClient, db_sessions: Any
) -> None:
    from openncii.partners import revoke_partner

    sessions = db_sessions
    now = datetime.now(UTC)
    with sessions() as session:
        add_partner(session, "Zeta Video", now)
        add_partner(session, "Acme Social", now)
        add_partner(session, "Gone Inc", now)
        revoke_partner(session, "Gone Inc", now)
    response = api_client().get(PARTNERS)
    assert response.status_code == 200
    assert response.json() == {"partners": [{"name": "Acme Social"}, {"name": "Zeta Video"}]}


# -- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("adult_when_taken", "Take It Down"),
        ("adult_now", "Take It Down"),
        ("in_image", "person shown"),
        ("intimate", "nude, semi-nude or sexual"),
        ("has_content", "copy of it"),
    ],
)
def test_any_no_answer_gets_a_kind_422_with_help(
    api_client: ApiClient, db_sessions: Any, question: str, words: str
) -> None:
    body = case_body()
    body["eligibility"] = {**ELIGIBLE, question: False}
    response = api_client().post(CASES, json=body)
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "not_eligible"
    assert error["question"] == question
    assert words in error["detail"]
    assert error["help_url"].startswith("https://")
    if question.startswith("adult"):
        assert error["help_url"] == "https://takeitdown.ncmec.org/"
    assert _count(db_sessions, Case) == 0


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ({"type": "pdq", "value": "ab" * 31, "quality": 90}, "64 hex"),
        ({"type": "pdq", "value": "zz" * 32, "quality": 90}, "hex digits"),
        ({"type": "pdq", "value": random_pdq(), "quality": 49}, "too plain"),
        ({"type": "pdq", "value": "0" * 64, "quality": 100}, "single-colour"),
        ({"type": "pdq", "value": "f" * 64, "quality": 100}, "single-colour"),
        ({"type": "md5", "value": "a" * 31}, "32 hex"),
        ({"type": "md5", "value": "0" * 32}, "empty or blank"),
        ({"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"}, "empty or blank"),
        (
            {"type": "vpdq", "frames": [{"pdq": "0" * 64, "quality": 100, "timestamp": 0.0}]},
            "no frame",
        ),
        (
            {"type": "vpdq", "frames": [{"pdq": random_pdq(), "quality": 10, "timestamp": 0.0}]},
            "no frame",
        ),
    ],
)
def test_bad_hash_is_refused_with_its_position_and_no_partial_case(
    api_client: ApiClient, db_sessions: Any, item: dict[str, Any], words: str
) -> None:
    body = case_body(pdq_item(), md5_item(), item)
    response = api_client().post(CASES, json=body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["code"] == "hash_rejected"
    assert error["index"] == 2
    assert error["detail"].startswith("Hash 3")
    assert words in error["detail"]
    assert _count(db_sessions, Case) == 0
    assert _count(db_sessions, HashRecord) == 0
    assert _count(db_sessions, CaseHash) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"eligibility": ELIGIBLE, "hashes": [pdq_item()], "extra": 1},
        {"eligibility": {**ELIGIBLE, "extra": True}, "hashes": [pdq_item()]},
        {"eligibility": ELIGIBLE, "hashes": [{**pdq_item(), "note": "x"}]},
        {"eligibility": ELIGIBLE, "hashes": [{"type": "tmk", "value": "ab"}]},
        {"eligibility": ELIGIBLE, "hashes": []},
        {"eligibility": {**ELIGIBLE, "adult_now": "yes"}, "hashes": [pdq_item()]},
        {"eligibility": ELIGIBLE, "hashes": [pdq_item(quality=101)]},
        {"eligibility": ELIGIBLE, "hashes": [pdq_item()], "language": "<script>"},
        {"hashes": [pdq_item()]},
        [],
        "text",
    ],
)
def test_malformed_bodies_and_unknown_fields_get_422(
    api_client: ApiClient, db_sessions: Any, body: Any
) -> None:
    response = api_client().post(CASES, json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert _count(db_sessions, Case) == 0


def test_invalid_json_gets_422(api_client: ApiClient) -> None:
    response = api_client().post(
        CASES, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "The request body is not valid JSON."


def test_validation_errors_do_not_echo_the_request(api_client: ApiClient) -> None:
    response = api_client().post(STATUS, json={"case_number": "ABCD", "pin": 12345678})
    assert response.status_code == 422
    assert "12345678" not in response.text


def test_more_hashes_than_allowed_is_refused(api_client: ApiClient, db_sessions: Any) -> None:
    client = api_client(max_hashes_per_case=5)
    assert client.post(CASES, json=case_body(*[pdq_item() for _ in range(5)])).status_code == 201
    response = client.post(CASES, json=case_body(*[pdq_item() for _ in range(6)]))
    assert response.status_code == 422
    assert response.json()["code"] == "too_many_hashes"
    assert "at most 5" in response.json()["detail"]
    assert _count(db_sessions, Case) == 1


def test_the_limits_are_published_for_the_web_app(api_client: ApiClient) -> None:
    client = api_client(max_hashes_per_case=5, max_files_per_case=3, max_body_bytes=100_000)
    limits = client.get("/api/v1/limits")
    assert limits.status_code == 200
    assert limits.json() == {
        "max_files_per_case": 3,
        "max_hashes_per_case": 5,
        "max_body_bytes": 100_000,
    }


def test_default_limits_take_50_photos_of_10_hashes(api_client: ApiClient) -> None:
    """A person can send at least 20 photos, each with the most hashes a device enrols."""
    client = api_client()
    limits = client.get("/api/v1/limits").json()
    assert limits["max_files_per_case"] == 50
    assert limits["max_hashes_per_case"] == 1000
    ten = ("full", "trim", *["square"] * 5, "strip", "strip", "strip")
    photos = [photo_item(ten) for _ in range(50)]
    created = client.post(CASES, json=case_body(*photos))
    assert created.status_code == 201, created.text
    assert created.json()["hash_count"] == 500
    assert created.json()["file_count"] == 50
    response = client.post(CASES, json=case_body(*photos, photo_item()))
    assert response.status_code == 422
    assert response.json()["code"] == "too_many_hashes"
    assert "at most 50 photos and videos" in response.json()["detail"]


def test_a_video_counts_once_with_its_signature(api_client: ApiClient) -> None:
    client = api_client(max_files_per_case=2)
    created = client.post(CASES, json=case_body(md5_item(), vpdq_item(), photo_item()))
    assert created.status_code == 201, created.text
    assert created.json()["file_count"] == 2
    again = client.post(CASES, json=case_body(md5_item(), vpdq_item(), md5_item(), photo_item()))
    assert again.json()["code"] == "too_many_hashes"


def test_a_photo_is_stored_with_the_kind_of_each_hash(
    api_client: ApiClient, db_sessions: Any
) -> None:
    client = api_client()
    photo = photo_item(("full", "square", "strip", "trim"))
    video = md5_item()
    created = client.post(CASES, json=case_body(video, photo))
    assert created.status_code == 201, created.text
    assert created.json() == {**created.json(), "hash_count": 5, "file_count": 2}
    with db_sessions() as session:
        rows = session.execute(
            select(HashRecord.signal_type, HashRecord.value, CaseHash.photo)
            .join(CaseHash, CaseHash.hash_id == HashRecord.id)
            .order_by(CaseHash.position)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("md5", video["value"], None),
        *[
            (f"pdq_{v['kind']}" if v["kind"] != "full" else "pdq", v["pdq"], 1)
            for v in photo["variants"]
        ],
    ]
    status = client.post(
        STATUS, json={"case_number": created.json()["case_number"], "pin": created.json()["pin"]}
    ).json()
    assert [(h["type"], h["photo"]) for h in status["hashes"]] == [
        ("md5", None),
        ("pdq", 1),
        ("pdq_square", 1),
        ("pdq_strip", 1),
        ("pdq_trim", 1),
    ]


@pytest.mark.parametrize(
    ("variants", "detail"),
    [
        ([], None),
        ([{"pdq": "ab" * 32, "kind": "dihedral", "quality": 90}], None),
        ([{"pdq": "ab" * 32, "kind": "square", "quality": 20}], "too plain"),
        ([{"pdq": "0" * 64, "kind": "strip", "quality": 90}], "blank"),
        ([{"pdq": "ab" * 31, "kind": "full", "quality": 90}], "64 hex"),
        ([{"pdq": "ab" * 32, "kind": "full", "quality": 90}] * 11, None),
    ],
)
def test_a_bad_photo_is_refused_whole(
    api_client: ApiClient, db_sessions: Any, variants: list[dict[str, Any]], detail: str | None
) -> None:
    client = api_client()
    response = client.post(
        CASES, json=case_body(pdq_item(), {"type": "photo", "variants": variants})
    )
    assert response.status_code == 422
    if detail is not None:
        assert response.json()["code"] == "hash_rejected"
        assert response.json()["index"] == 1
        assert detail in response.json()["detail"]
        assert "Hash 2, variant 1" in response.json()["detail"]
    assert _count(db_sessions, Case) == 0


def test_body_over_256_kb_gets_413(api_client: ApiClient, db_sessions: Any) -> None:
    client = api_client(max_hashes_per_case=10_000, max_files_per_case=10_000)
    items = [pdq_item() for _ in range(2500)]
    body = case_body(*items)
    import json

    raw = json.dumps(body).encode()
    assert len(raw) > 256 * 1024
    response = client.post(CASES, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "256 KB" in response.json()["detail"]
    assert _count(db_sessions, Case) == 0

    # A streamed body without Content-Length is cut off the same way.
    def chunks() -> Any:
        for start in range(0, len(raw), 65536):
            yield raw[start : start + 65536]

    streamed = client.post(CASES, content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    # Just under the limit is fine.
    smaller = case_body(*items[:1500])
    assert len(json.dumps(smaller)) < 256 * 1024
    assert client.post(CASES, json=smaller).status_code == 201
