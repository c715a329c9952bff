"""Hash review in the console's API (SQLite and PostgreSQL): a reviewer disables a photo's
hash, every partner's feed (raw HTTP and the real python-threatexchange client) carries it as
Deleted, the person's status says so, an admin re-enables it; the deny-list; and every route
refuses without a session (401), without the CSRF token or by an analyst where an admin is
needed (403), unknown hashes (404), changing nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from threatexchange.exchanges.clients.stopncii.api import (
    StopNCIIAPI,
    StopNCIICaseStatus,
    StopNCIISignalType,
)

from case_helpers import CASES, STATUS, case_body, pdq_item, photo_item
from console_helpers import LOOPBACK, add_admin, set_up, sign_in, signed_in_client
from openncii.api import create_app
from openncii.db.models import HashRecord
from openncii.review import disable_hash
from openncii.testing import FakeClock, serve_in_thread
from partner_helpers import FETCH, SUBMIT, key_headers, new_partner

ApiClient = Callable[..., Any]
REVIEW = "/admin/api/review"
DENYLIST = "/admin/api/denylist"


def _records(client: Any, key: str, start: int = 0) -> tuple[dict[str, str], int]:
    page = client.get(FETCH, params={"startTimestamp": start}, headers=key_headers(key)).json()
    assert not page["hasMoreRecords"]
    return {r["hashValue"]: r["hashStatus"] for r in page["hashRecords"]}, page["nextSetTimestamp"]


def _hash_id(client: Any, value: str) -> int:
    """The id of a hash as a reviewer finds it: in the queue by its prefix (a deny-list entry
    near it puts it there)."""
    items = client.get(REVIEW).json()["items"]
    (item,) = [i for i in items if i["prefix"] == value[:8]]
    return int(item["hash_id"])


def _audit_actions(client: Any) -> list[str]:
    return [e["action"] for e in reversed(client.get("/admin/api/audit").json()["entries"])]


def test_disable_reaches_every_feed_and_the_persons_status(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, admin = signed_in_client(api_client, db_sessions, clock)
    key = new_partner(db_sessions, "Acme")
    photo = photo_item(("full", "square", "strip"))
    full = photo["variants"][0]["pdq"]
    other = pdq_item()
    created = client.post(CASES, json=case_body(photo, other)).json()
    before, checkpoint = _records(client, key)
    assert before == {full: "Active", other["value"]: "Active"}

    csrf = {"X-CSRF-Token": admin.csrf}
    # The reviewer finds the hash in the queue: a deny-list entry 0 bits from it.
    denied = client.post(
        DENYLIST, json={"value": full, "reason": "a logo seen everywhere"}, headers=csrf
    )
    assert denied.status_code == 204
    queue = client.get(REVIEW).json()["items"]
    assert [(i["prefix"], [r["code"] for r in i["reasons"]]) for i in queue] == [
        (full[:8], ["near_denied"])
    ]
    assert full not in client.get(REVIEW).text
    hash_id = _hash_id(client, full)
    opened = client.post(f"{REVIEW}/hashes/{hash_id}/open", headers=csrf).json()
    assert (opened["value"], opened["type"], opened["status"]) == (full, "pdq", "active")

    answer = client.post(
        f"{REVIEW}/hashes/{hash_id}/disable",
        json={"reason": "a company logo, not an intimate image"},
        headers=csrf,
    )
    assert answer.status_code == 200 and answer.json() == {"disabled": 3}
    changed, _ = _records(client, key, checkpoint)
    assert changed == {full: "Deleted"}  # a stock fetch: the whole-image hash
    variants = client.get(
        FETCH, params={"startTimestamp": checkpoint, "variants": 1}, headers=key_headers(key)
    ).json()["hashRecords"]
    assert sorted(r["hashStatus"] for r in variants) == ["Deleted"] * 3
    status = client.post(
        STATUS, json={"case_number": created["case_number"], "pin": created["pin"]}
    ).json()
    assert [h["disabled"] for h in status["hashes"]] == [True, True, True, False]
    assert client.get(REVIEW).json()["items"] == []
    (shown, *_rest) = client.get(f"{REVIEW}/disabled").json()
    assert shown["reason"] == "a company logo, not an intimate image"
    assert shown["disabled_by"] == admin.email and len(_rest) == 2

    enabled = client.post(f"{REVIEW}/hashes/{hash_id}/enable", headers=csrf)
    assert enabled.json() == {"enabled": 3}
    again, _ = _records(client, key, checkpoint)
    assert again == {full: "Active"}
    assert _audit_actions(client)[-4:] == ["hash.deny", "hash.open", "hash.disable", "hash.enable"]
    log = client.get("/admin/api/audit").text
    assert full not in log and full[:8] in log
    # The entry stays on the deny-list until an admin removes it.
    (entry,) = client.get(DENYLIST).json()
    assert entry["prefix"] == full[:8]
    assert client.post(CASES, json=case_body(pdq_item(full))).json()["code"] == "hash_rejected"
    assert client.delete(f"{DENYLIST}/{entry['id']}", headers=csrf).status_code == 204
    assert client.post(CASES, json=case_body(pdq_item(full))).status_code == 201


def test_the_real_stopncii_client_sees_a_disabled_hash_as_deleted(
    make_settings: Callable[..., Any], db_sessions: Any
) -> None:
    key = new_partner(db_sessions, "Acme")
    with serve_in_thread(create_app(make_settings())) as url, httpx.Client(base_url=url) as http:
        api = StopNCIIAPI(
            subscription_key=key, fetch_function_key=key, base_url_override=f"{url}/v1"
        )
        item = pdq_item()
        assert http.post(CASES, json=case_body(item)).status_code == 201
        first = api.fetch_hashes(start_timestamp=StopNCIIAPI.DEFAULT_START_TIME)
        (record,) = first.hashRecords
        assert record.hashStatus == StopNCIICaseStatus.Active
        with db_sessions() as session:
            hash_id = session.scalars(select(HashRecord.id)).one()
        with db_sessions() as session:
            disable_hash(session, hash_id, "not intimate", FakeClock()(), actor=None, network=None)
        (record,) = api.fetch_hashes(start_timestamp=first.nextSetTimestamp).hashRecords
        assert (record.signalType, record.hashValue) == (StopNCIISignalType.ImagePDQ, item["value"])
        assert record.hashStatus == StopNCIICaseStatus.Deleted


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", REVIEW, None),
        ("get", f"{REVIEW}/disabled", None),
        ("post", f"{REVIEW}/hashes/1/open", None),
        ("post", f"{REVIEW}/hashes/1/disable", {"reason": "x"}),
        ("post", f"{REVIEW}/hashes/1/enable", None),
        ("get", DENYLIST, None),
        ("post", DENYLIST, {"value": "0" * 64, "reason": "x"}),
        ("delete", f"{DENYLIST}/1", None),
    ],
)
def test_every_review_route_needs_a_session(
    api_client: ApiClient, method: str, path: str, body: Any
) -> None:
    client = api_client()
    client.base_url = LOOPBACK
    kwargs = {} if body is None else {"json": body}
    answer = getattr(client, method)(path, **kwargs)
    assert answer.status_code == 401
    assert answer.json()["code"] == "not_authenticated"


def test_csrf_roles_and_unknown_hashes_change_nothing(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, analyst = signed_in_client(
        api_client, db_sessions, clock, email="ana@example.org", role="analyst"
    )
    item = pdq_item()
    assert client.post(CASES, json=case_body(item)).status_code == 201
    key = new_partner(db_sessions, "Acme")
    csrf = {"X-CSRF-Token": analyst.csrf}
    no_csrf = client.post(DENYLIST, json={"value": item["value"], "reason": "logo"})
    assert no_csrf.status_code == 403 and no_csrf.json()["code"] == "forbidden"
    wrong = client.post(
        DENYLIST, json={"value": item["value"], "reason": "x"}, headers={"X-CSRF-Token": "wrong"}
    )
    assert wrong.status_code == 403
    assert client.get(DENYLIST).json() == []
    # The analyst adds the entry, finds the hash, disables it (reviewers may) ...
    assert (
        client.post(
            DENYLIST, json={"value": item["value"], "reason": "logo"}, headers=csrf
        ).status_code
        == 204
    )
    hash_id = _hash_id(client, item["value"])
    for path in (f"{REVIEW}/hashes/{hash_id}/disable", f"{REVIEW}/hashes/{hash_id}/open"):
        refused = client.post(path, json={"reason": "logo"})
        assert refused.status_code == 403
    missing = client.post(
        f"{REVIEW}/hashes/{hash_id + 99}/disable", json={"reason": "logo"}, headers=csrf
    )
    assert missing.status_code == 404 and missing.json()["code"] == "hash_not_found"
    empty = client.post(f"{REVIEW}/hashes/{hash_id}/disable", json={"reason": "  "}, headers=csrf)
    assert empty.status_code == 400 and "reason" in empty.json()["detail"]
    extra = client.post(
        f"{REVIEW}/hashes/{hash_id}/disable", json={"reason": "a", "x": 1}, headers=csrf
    )
    assert extra.status_code == 422
    bad = client.post(DENYLIST, json={"value": "xyz", "reason": "logo"}, headers=csrf)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_hash"
    assert _records(client, key)[0] == {item["value"]: "Active"}
    assert client.post(
        f"{REVIEW}/hashes/{hash_id}/disable", json={"reason": "logo"}, headers=csrf
    ).json() == {"disabled": 1}
    # ... but re-enabling it and removing a deny-list entry are for admins.
    assert client.post(f"{REVIEW}/hashes/{hash_id}/enable", headers=csrf).status_code == 403
    (entry,) = client.get(DENYLIST).json()
    assert client.delete(f"{DENYLIST}/{entry['id']}", headers=csrf).status_code == 403
    assert _records(client, key)[0] == {item["value"]: "Deleted"}
    assert len(client.get(DENYLIST).json()) == 1
    admin_token = add_admin(db_sessions, "lead@example.org", clock())
    secret = set_up(client, admin_token, clock())
    admin = sign_in(client, "lead@example.org", secret, clock)
    missing_enable = client.post(
        f"{REVIEW}/hashes/{hash_id + 99}/enable", headers={"X-CSRF-Token": admin.csrf}
    )
    assert missing_enable.status_code == 404
    assert client.delete(f"{DENYLIST}/999", headers={"X-CSRF-Token": admin.csrf}).status_code == 404
    assert client.post(
        f"{REVIEW}/hashes/{hash_id}/enable", headers={"X-CSRF-Token": admin.csrf}
    ).json() == {"enabled": 1}


def test_a_partner_cannot_submit_a_deny_listed_hash(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, admin = signed_in_client(api_client, db_sessions, clock)
    key = new_partner(db_sessions, "Helper", can_submit=True)
    value = pdq_item()["value"]
    csrf = {"X-CSRF-Token": admin.csrf}
    added = client.post(DENYLIST, json={"value": value, "reason": "logo"}, headers=csrf)
    assert added.status_code == 204
    records = [{"signalType": "ImagePDQ", "hashValue": v} for v in (pdq_item()["value"], value)]
    body = {"count": 2, "hashRecords": records}
    refused = client.post(SUBMIT, json=body, headers=key_headers(key))
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("hashRecords[1]: ")
    assert "deny-list" in refused.json()["detail"] and value not in refused.text
    assert _records(client, key)[0] == {}


def test_the_queue_takes_its_thresholds_from_the_settings(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    """``OPENNCII_REVIEW_BURST_CASES=3``: three cases from one network are a burst."""
    client, _admin = signed_in_client(
        api_client, db_sessions, clock, review_burst_cases=3, review_burst_minutes=5
    )
    items = [pdq_item() for _ in range(3)]
    for item in items[:2]:
        assert client.post(CASES, json=case_body(item)).status_code == 201
    assert client.get(REVIEW).json()["items"] == []
    assert client.post(CASES, json=case_body(items[2])).status_code == 201
    queue = client.get(REVIEW).json()["items"]
    assert sorted(i["prefix"] for i in queue) == sorted(i["value"][:8] for i in items)
    for shown in queue:
        ((reason),) = shown["reasons"]
        assert reason["code"] == "network_burst"
        assert (reason["figures"]["cases"], reason["figures"]["minutes"]) == (3, 5)
