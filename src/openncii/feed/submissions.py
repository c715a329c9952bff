"""Partner submissions (``SubmitHashes``): hashes a contributing partner's reviewers confirmed.

They pass the same checks as a person's hashes and open a case of the partner's own, stored by
:func:`openncii.cases.store_case`. No FastAPI and no HTTP here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from openncii.cases.denylist import DenyList
from openncii.cases.numbers import new_case_number
from openncii.cases.service import store_case
from openncii.cases.validation import (
    Md5Submission,
    PdqSubmission,
    Submission,
    ValidHash,
    validate_hashes,
)
from openncii.db.models import HashRecord
from openncii.errors import PartnerRequestError, ServiceError, SubmissionNotAllowedError
from openncii.feed.feedback import MAX_BATCH, check_feedback_value, check_tags, upsert_feedback
from openncii.partners.service import PartnerInfo
from openncii.signals.registry import MD5, PDQ, SignalType, by_wire_name

__all__ = ["SubmittedHash", "check_can_submit", "submit_hashes", "submitted_type_names"]

_WIRE_PREFIX: Final = "StopNCIISignalType."  # python-threatexchange's submit_hashes sends str(enum)
#: A submitted PDQ hash has no quality on the wire; the partner's reviewers confirmed the content.
_PARTNER_PDQ_QUALITY: Final = 100
#: Cases opened by partner submissions have no PIN: this is not a valid argon2 hash.
_NO_PIN: Final = "!partner-submission"


@dataclass(frozen=True, slots=True)
class SubmittedHash:
    """One ``hashRecords`` entry of SubmitHashes: the partner's own confirmed hash."""

    signal_type: str
    hash_value: str
    feedback: str = "Blocked"
    tags: tuple[str, ...] = ()


def check_can_submit(partner: PartnerInfo) -> None:
    """Raise :class:`SubmissionNotAllowedError` unless the helpline allowed ``partner`` to
    contribute hashes."""
    if not partner.can_submit:
        raise SubmissionNotAllowedError(
            "This partner is not allowed to submit hashes. Ask the helpline to enable it."
        )


def submitted_type_names(kind: SignalType) -> tuple[str, str]:
    """The ``signalType`` spellings a submission of ``kind`` may carry: StopNCII's wire name and
    python-threatexchange's (``StopNCIISignalType.ImagePDQ``)."""
    return (kind.wire_name, _WIRE_PREFIX + kind.wire_name)


def _refusal(keys: Sequence[tuple[str, str]]) -> Callable[[ValidHash], PartnerRequestError]:
    """The refusal of a hash on the helpline's deny-list, naming its first record (``keys``:
    each record's validated hash)."""

    def refuse(denied: ValidHash) -> PartnerRequestError:
        index = keys.index(denied.key)
        return PartnerRequestError(
            f"hashRecords[{index}]: the helpline has put this hash on its deny-list."
        )

    return refuse


def submit_hashes(
    session: Session,
    partner: PartnerInfo,
    items: Sequence[SubmittedHash],
    denylist: DenyList,
    now: datetime,
) -> int:
    """Add a contributing partner's hashes to the bank as one case of its own.

    The hashes pass the same checks as a person's (deny-list, degenerate values); the case has an
    opaque partner reference like any other and no PIN. The partner's feedback on each hash is
    recorded with them. Returns the number of distinct hashes stored.
    """
    check_can_submit(partner)
    if not items:
        return 0  # nothing to store (a valid batch of no records)
    if len(items) > MAX_BATCH:
        raise PartnerRequestError(f"At most {MAX_BATCH} hash records per request.")
    chosen: dict[tuple[str, str], tuple[ValidHash, str, str]] = {}
    keys: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        where = f"hashRecords[{i}]"
        kind = by_wire_name(item.signal_type.removeprefix(_WIRE_PREFIX))
        submission: Submission
        if kind is PDQ:
            submission = PdqSubmission(item.hash_value, _PARTNER_PDQ_QUALITY)
        elif kind is MD5:
            submission = Md5Submission(item.hash_value)
        else:
            raise PartnerRequestError(f"{where}: signalType is {PDQ.wire_name} or {MD5.wire_name}.")
        try:
            (valid,) = validate_hashes([submission], denylist, 1)
        except ServiceError as exc:
            raise PartnerRequestError(f"{where}: {exc}") from None
        keys.append(valid.key)
        tags = json.dumps(list(check_tags(item.tags, where)))
        chosen[valid.key] = (
            valid,
            check_feedback_value(item.feedback, where),
            tags,
        )  # last one wins
    with session.begin():
        hashes = [v for v, _, _ in chosen.values()]
        store_case(session, new_case_number(), _NO_PIN, hashes, None, now, refuse=_refusal(keys))
        ids = {
            (signal_type, value): int(hash_id)
            for hash_id, signal_type, value in session.execute(
                select(HashRecord.id, HashRecord.signal_type, HashRecord.value).where(
                    tuple_(HashRecord.signal_type, HashRecord.value).in_(sorted(chosen))
                )
            )
        }
        upsert_feedback(
            session, partner.id, {ids[k]: (fb, tags) for k, (_, fb, tags) in chosen.items()}, now
        )
    return len(chosen)
