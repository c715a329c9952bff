"""`openncii matcher serve`'s app: POST /match (JSON and uploads), GET /metrics, live refresh.

The bank is a real partner store (SQLite), filled with feed pages as the partner API sends them.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageOps
from pydantic import ValidationError

from openncii import hash_file
from openncii.partner import PartnerStore
from openncii.partner.matcher import StoreBank
from openncii.partner.matcher_app import create_matcher_app
from openncii.settings import MatcherSettings
from openncii.signals.vpdq import VpdqFeature, format_vpdq_text
from openncii.testing import FakeClock
from partner_helpers import balanced_pdq, flip_pdq
from partner_helpers import feed_record as _record
from partner_helpers import store_page as _apply


def _flip(value: str, count: int, seed: int = 0) -> str:
    return flip_pdq(value, count, np.random.default_rng(seed))


@pytest.fixture
def photo_hash(testdata: Path) -> str:
    value = hash_file(testdata / "photos" / "mate_garden.jpg").pdq
    assert value is not None
    return value


def _balanced(seed: int) -> str:
    return balanced_pdq(np.random.default_rng(seed))


VIDEO_FRAMES = [_balanced(100 + i) for i in range(6)]
TOKEN = "k" * 20 + "-matcher-token"  # 34 characters


@pytest.fixture
def store(tmp_path: Path, photo_hash: str) -> Iterator[PartnerStore]:
    with PartnerStore.open(tmp_path / "bank.sqlite3") as opened:
        video = format_vpdq_text(
            [VpdqFeature(i, 90, h, float(i)) for i, h in enumerate(VIDEO_FRAMES)]
        )
        _apply(
            opened,
            [
                _record("ImagePDQ", photo_hash, ref="ref-photo"),
                _record("VideoMD5", "ab" * 16, ref="ref-video"),
                _record("VideoPDQ", video, ref="ref-vpdq"),
            ],
        )
        yield opened


@pytest.fixture
def client(store: PartnerStore) -> Iterator[TestClient]:
    settings = MatcherSettings(refresh_seconds=0.05, max_upload_bytes=4 * 1024**2)
    app = create_matcher_app(StoreBank(store), settings)
    with TestClient(app) as test_client:
        yield test_client


def test_json_queries_answer_matches_with_case_refs(client: TestClient, photo_hash: str) -> None:
    near = _flip(photo_hash, 12)
    response = client.post(
        "/match", json={"pdq": [_flip(photo_hash, 100), near], "md5": ["AB" * 16, "cd" * 16]}
    )
    assert response.status_code == 200
    matches = response.json()["matches"]
    assert matches == [
        {
            "signal_type": "pdq",
            "query": 1,
            "hash": photo_hash,
            "distance": 12,
            "case_refs": ["ref-photo"],
        },
        {
            "signal_type": "md5",
            "query": 0,
            "hash": "ab" * 16,
            "distance": 0,
            "case_refs": ["ref-video"],
        },
    ]


def test_threshold_and_dihedral_in_json(client: TestClient, photo_hash: str) -> None:
    far = _flip(photo_hash, 40)
    assert client.post("/match", json={"pdq": [far]}).json()["matches"] == []
    found = client.post("/match", json={"pdq": [far], "threshold": 40}).json()["matches"]
    assert [m["distance"] for m in found] == [40]
    variants = [_flip(photo_hash, 90, seed=s) for s in range(7)] + [_flip(photo_hash, 3)]
    found = client.post(
        "/match", json={"pdq": [{"hash": variants[0], "dihedral": variants}]}
    ).json()["matches"]
    assert [m["distance"] for m in found] == [3]


def test_vpdq_queries(client: TestClient) -> None:
    frames = [
        {"frame": i, "quality": 90, "pdq": _flip(h, 4, seed=i), "timestamp": float(i)}
        for i, h in enumerate(VIDEO_FRAMES)
    ]
    found = client.post("/match", json={"vpdq": [frames]}).json()["matches"]
    assert [(m["signal_type"], m["case_refs"], m["query_percent"]) for m in found] == [
        ("vpdq", ["ref-vpdq"], 100.0)
    ]
    text = "\n".join(f"{f['frame']},{f['quality']},{f['pdq']},{f['timestamp']}" for f in frames[:2])
    assert client.post("/match", json={"vpdq": [text]}).json()["matches"] == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"pdq": ["zz" * 32]}, "pdq"),
        ({"pdq": ["ab" * 32, "ab" * 16]}, "pdq[1]"),
        ({"md5": ["ab" * 16, "xyz"]}, "md5[1]"),
        ({"pdq": [], "colour": "red"}, "colour"),
        ({"threshold": 65}, "threshold"),
        ({"vpdq": ["1,2,3"]}, "vpdq[0]"),
    ],
)
def test_bad_json_gets_a_clear_422(client: TestClient, body: dict[str, Any], fragment: str) -> None:
    response = client.post("/match", json=body)
    assert response.status_code == 422
    error = response.json()
    assert fragment in error["detail"]
    assert error["code"] in {"invalid_hash", "invalid_request"}


def test_wrong_content_type_and_oversized_bodies(client: TestClient) -> None:
    wrong_type = client.post("/match", content=b"pdq=1", headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 415
    assert wrong_type.json()["code"] == "unsupported_media_type"
    huge = json.dumps({"md5": ["ab" * 16] * 400_000}).encode()
    response = client.post("/match", content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"

    def streamed() -> Iterator[bytes]:  # no Content-Length: refused as it streams in
        yield huge

    response = client.post(
        "/match", content=streamed(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    big_file = io.BytesIO(b"\xff\xd8" + b"\0" * (5 * 1024**2))
    response = client.post("/match", files={"file": ("big.jpg", big_file, "image/jpeg")})
    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is larger than 4 MB."
    metrics = client.get("/metrics").text
    assert 'openncii_matcher_requests_total{input="hashes",outcome="error"} 3.0' in metrics
    assert 'openncii_matcher_requests_total{input="file",outcome="error"} 1.0' in metrics


def test_matcher_answers_carry_the_shared_headers(client: TestClient, photo_hash: str) -> None:
    """One middleware home (openncii.serving.headers): matches are never cached, every answer,
    the 413 included, has the security headers."""
    from openncii.serving.headers import PERMISSIONS_POLICY

    huge = json.dumps({"md5": ["ab" * 16] * 400_000}).encode()
    for response in (
        client.post("/match", json={"pdq": [photo_hash]}),
        client.get("/healthz"),
        client.post("/match", content=huge, headers={"content-type": "application/json"}),
    ):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"
        assert response.headers["permissions-policy"] == PERMISSIONS_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in client.get("/metrics").headers


def test_uploaded_image_mirrored_copy_matches(client: TestClient, testdata: Path) -> None:
    buffer = io.BytesIO()
    with Image.open(testdata / "photos" / "mate_garden.jpg") as image:
        ImageOps.mirror(image.convert("RGB")).resize((600, 450)).save(buffer, "JPEG", quality=70)
    response = client.post("/match", files={"file": ("x.jpg", buffer.getvalue(), "image/jpeg")})
    assert response.status_code == 200
    body = response.json()
    assert body["media"] == "image"
    assert [(m["signal_type"], m["case_refs"]) for m in body["matches"]] == [("pdq", ["ref-photo"])]
    assert body["matches"][0]["distance"] <= 31


def test_uploaded_unrelated_image_does_not_match(client: TestClient, testdata: Path) -> None:
    data = (testdata / "photos" / "opencv_baboon.jpg").read_bytes()
    response = client.post("/match", files={"file": ("b.jpg", data, "image/jpeg")})
    assert response.status_code == 200
    assert response.json()["matches"] == []


@pytest.mark.parametrize(
    ("data", "status"),
    [(b"", 422), (b"\xff\xd8\xff\xe0" + b"\0" * 20, 422), (b"hello, not media", 422)],
)
def test_hostile_uploads_get_clear_errors(client: TestClient, data: bytes, status: int) -> None:
    response = client.post("/match", files={"file": ("f.bin", data, "application/octet-stream")})
    assert response.status_code == status
    assert response.json()["detail"].startswith("The file cannot be hashed: ")
    assert response.json()["code"] == "media_not_hashable"


def test_upload_without_a_file_part(client: TestClient) -> None:
    response = client.post("/match", data={"other": "x"}, files={"nofile": ("a", b"1")})
    assert response.status_code == 422
    assert '"file"' in response.json()["detail"]


def test_withdrawal_reaches_the_running_matcher(
    client: TestClient, store: PartnerStore, photo_hash: str
) -> None:
    assert client.post("/match", json={"pdq": [photo_hash]}).json()["matches"] != []
    _apply(store, [_record("ImagePDQ", photo_hash, status="Withdrawn", ref="ref-photo")])
    # From the moment the store has it, the withdrawn hash is never reported (its details are
    # read from the store); the next refresh drops it from the index too.
    assert client.post("/match", json={"pdq": [photo_hash]}).json()["matches"] == []
    deadline = time.monotonic() + 60  # the refresh thread, on a loaded machine
    while client.get("/healthz").json()["bank"]["pdq"] != 0:
        assert time.monotonic() < deadline, "the withdrawal never reached the matcher's index"
        time.sleep(0.05)
    assert client.get("/healthz").json()["bank"] == {"pdq": 0, "md5": 1, "vpdq": 1}
    assert client.post("/match", json={"pdq": [photo_hash]}).json()["matches"] == []


def test_metrics_count_requests_and_matches(client: TestClient, photo_hash: str) -> None:
    client.post("/match", json={"pdq": [photo_hash]})
    client.post("/match", json={"pdq": ["zz"]})
    text = client.get("/metrics").text
    assert 'openncii_matcher_requests_total{input="hashes",outcome="ok"} 1.0' in text
    assert 'openncii_matcher_requests_total{input="hashes",outcome="error"} 1.0' in text
    assert 'openncii_matcher_matches_total{signal_type="pdq"} 1.0' in text
    assert 'openncii_matcher_bank_hashes{signal_type="pdq"} 1.0' in text
    assert "openncii_matcher_request_seconds_bucket" in text
    # Hash values never appear in the metrics.
    assert photo_hash not in text


def test_a_token_guards_match_answers(store: PartnerStore, photo_hash: str) -> None:
    settings = MatcherSettings(refresh_seconds=5, token=TOKEN)
    with TestClient(create_matcher_app(StoreBank(store), settings)) as guarded:
        body = {"pdq": [photo_hash]}
        missing = guarded.post("/match", json=body)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert missing.json()["code"] == "not_authenticated"
        wrong = guarded.post("/match", json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert photo_hash not in wrong.text
        # The scheme in any case and spaces around the token, as the partner API accepts.
        for header in (f"Bearer {TOKEN}", f"bearer {TOKEN}", f"BEARER  {TOKEN} "):
            right = guarded.post("/match", json=body, headers={"Authorization": header})
            assert [m["hash"] for m in right.json()["matches"]] == [photo_hash], header
        for header in ("Bearer", "Bearer ", TOKEN, f"Basic {TOKEN}", f"Bearer {TOKEN}x"):
            refused = guarded.post("/match", json=body, headers={"Authorization": header})
            assert refused.status_code == 401, header
        # Health and metrics hold no hash and stay open to the platform's monitoring.
        assert guarded.get("/healthz").status_code == 200
        metrics = guarded.get("/metrics").text
        assert (
            'openncii_matcher_requests_total{input="unauthorised",outcome="error"} 7.0' in metrics
        )


@pytest.mark.parametrize("token", ["", " ", "short", "x" * 31])
def test_an_empty_or_short_token_is_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        MatcherSettings(token=token)


def test_md5_and_pdq_with_surrounding_spaces_match_as_on_the_partner_api(
    client: TestClient, photo_hash: str
) -> None:
    body = {"pdq": [f"  {photo_hash.upper()} "], "md5": [" " + "AB" * 16 + "\n"]}
    response = client.post("/match", json=body)
    assert response.status_code == 200, response.text
    assert sorted(m["signal_type"] for m in response.json()["matches"]) == ["md5", "pdq"]
    wrong = client.post("/match", json={"md5": [" ab "]})
    assert wrong.status_code == 422
    assert wrong.json()["detail"].startswith("A hash is not valid: md5[0]: an MD5 hash is 32")


def test_healthz_reports_the_bank_and_the_sync_age_and_fails_when_it_is_too_old(
    store: PartnerStore,
) -> None:
    clock = FakeClock(datetime(2026, 11, 1, 0, 30, tzinfo=UTC))  # the store synced at 00:00
    settings = MatcherSettings(refresh_seconds=5, max_sync_age_seconds=3600)
    app = create_matcher_app(
        StoreBank(store), settings, last_sync=lambda: store.sync_state().checkpoint_at, clock=clock
    )
    with TestClient(app) as checked:
        fresh = checked.get("/healthz")
        assert fresh.status_code == 200
        assert fresh.json() == {
            "status": "ok",
            "position": fresh.json()["position"],
            "bank": {"pdq": 1, "md5": 1, "vpdq": 1},
            "bank_size": 3,
            "last_sync": "2026-11-01T00:00:00+00:00",
            "last_sync_age_seconds": 1800.0,
            "max_sync_age_seconds": 3600.0,
        }
        clock.advance(seconds=1800)
        assert checked.get("/healthz").status_code == 200
        clock.advance(seconds=1)
        stale = checked.get("/healthz")
        assert stale.status_code == 503
        assert stale.json()["status"] == "sync_too_old"
        assert stale.json()["last_sync_age_seconds"] == 3601.0


def test_healthz_of_a_store_never_synced_is_503(tmp_path: Path) -> None:
    with PartnerStore.open(tmp_path / "empty.sqlite3") as empty:
        app = create_matcher_app(
            StoreBank(empty), MatcherSettings(), last_sync=lambda: empty.sync_state().checkpoint_at
        )
        with TestClient(app) as checked:
            answer = checked.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "never_synced"
    assert answer.json()["bank_size"] == 0
    assert answer.json()["last_sync"] is None
