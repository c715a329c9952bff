"""schemathesis hooks for tests/test_api_schemathesis.py (loaded by ``SCHEMATHESIS_HOOKS``).

A schema-valid request must be accepted (schemathesis' ``positive_data_acceptance``). A few
refusals depend on facts JSON Schema cannot state; the positive cases that meet one are left
out here, each for a reason the OpenAPI document gives in words:

- a PDQ hash the deny-list matches (blank, single-colour, gradient images: within a distance of
  a listed hash), the MD5 of an empty or blank file, a video with no frame left after those;
- ``count`` that is not the number of items of the batch;
- a ``nextPageToken`` (only tokens the server issued are valid) or a ``startTimestamp`` in the
  future.

Negative cases (schema-violating) are never left out.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

import schemathesis
from schemathesis import GenerationMode

from openncii.cases.denylist import DenyList
from openncii.cases.validation import DEGENERATE_MD5
from openncii.feed import MAX_LEAD_SECONDS
from openncii.signals.pdq import MIN_QUALITY


@cache
def _denylist() -> DenyList:
    return DenyList.load()


def _refused_pdq(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value.strip()) == 64
        and _denylist().matches(value.strip().lower())
    )


def _refused_md5(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in DEGENERATE_MD5


def _refused_hash(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    if item.get("type") == "pdq":
        return _refused_pdq(item.get("value"))
    if item.get("type") == "md5":
        return _refused_md5(item.get("value"))
    if item.get("type") == "photo" and isinstance(item.get("variants"), list):
        return any(isinstance(v, dict) and _refused_pdq(v.get("pdq")) for v in item["variants"])
    if item.get("type") == "vpdq" and isinstance(item.get("frames"), list):
        return not any(
            isinstance(f, dict)
            and isinstance(f.get("quality"), int)
            and f["quality"] >= MIN_QUALITY
            and not _refused_pdq(f.get("pdq"))
            for f in item["frames"]
        )
    return False


def _count_differs(body: Any, items: str) -> bool:
    return (
        isinstance(body, dict)
        and isinstance(body.get(items), list)
        and body.get("count") != len(body[items])
    )


def semantically_refused(method: str, path: str, query: Any, body: Any) -> bool:
    """Whether the server refuses this schema-valid request for a reason given above."""
    route = f"{method.upper()} {path}"
    if route == "POST /api/v1/cases" and isinstance(body, dict):
        return any(_refused_hash(h) for h in body.get("hashes") or [])
    if route == "POST /v1/SubmitFeedback":
        return _count_differs(body, "hashFeedbacks")
    if route == "POST /v1/SubmitHashes":
        return _count_differs(body, "hashRecords") or any(
            isinstance(r, dict)
            and (_refused_pdq(r.get("hashValue")) or _refused_md5(r.get("hashValue")))
            for r in (body or {}).get("hashRecords") or []
        )
    if route == "GET /v1/FetchHashes" and isinstance(query, dict):
        start = query.get("startTimestamp")
        future = isinstance(start, int) and start > time.time() + MAX_LEAD_SECONDS
        return "nextPageToken" in query or future
    return False


@schemathesis.hook
def filter_case(_context: Any, case: Any) -> bool:
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return True
    return not semantically_refused(case.method, case.path, case.query, case.body)
