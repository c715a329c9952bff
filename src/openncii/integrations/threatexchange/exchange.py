"""The OpenNCII exchange for python-threatexchange and HMA: fetch, delete withdrawn, feedback.

python-threatexchange's StopNCII adapter (1.2.x) keeps hashes whose owners withdrew them: it
compares the hash *value* with ``Withdrawn``/``Deleted`` instead of the record's status, so a
withdrawn hash stays in every HMA bank that synced it. This exchange reads the same feed with
OpenNCII's own client (:class:`~openncii.partner.FeedClient`: strict parsing, retries,
``Retry-After``) and turns every record whose ``hashStatus`` is not ``Active`` into a deletion.

- Records: ``ImagePDQ`` -> ``pdq``, ``VideoMD5`` -> ``video_md5``, ``VideoPDQ`` ->
  ``openncii_vpdq`` (:mod:`.vpdq`) and python-threatexchange's own ``vpdq`` (when its
  extension, which needs the compiled ``vpdq`` package, is loaded), each only when that signal
  type is enabled; others are skipped. The metadata holds the opaque case references and
  other platforms' feedback.
- Checkpoints: the feed's ``nextSetTimestamp``; a checkpoint not used for 30 days is stale
  (the server forgets withdrawals after its retention window), so the tools fetch everything
  again and drop what the server no longer sends.
- Feedback: ``report_opinion`` (HMA's and the CLI's ``label``) sends ``SubmitFeedback``:
  positive -> ``Blocked``, negative -> ``NotBlocked``, otherwise ``PendingReview``.
"""

from __future__ import annotations

import time
import typing as t
from dataclasses import dataclass, field

from threatexchange.exchanges import auth, signal_exchange_api
from threatexchange.exchanges import fetch_state as state
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.signal_base import SignalType

from openncii.integrations.threatexchange._config import (
    API_NAME,
    OpenNCIICollabConfig,
    OpenNCIICredentials,
)
from openncii.integrations.threatexchange.vpdq import (
    STOCK_VPDQ_NAME,
    OpenNCIIVideoPdqSignal,
    from_feed_value,
    to_feed_value,
    to_stock_signal,
)
from openncii.partner import (
    MAX_CHECKPOINT_AGE,
    SIGNAL_MD5,
    SIGNAL_PDQ,
    SIGNAL_VPDQ,
    FeedbackItem,
    FeedClient,
    HashRecord,
)

__all__ = [
    "OpenNCIICheckpoint",
    "OpenNCIIFeedback",
    "OpenNCIISignalExchangeAPI",
    "OpenNCIISignalMetadata",
]

#: Storage key of a feed record -> the python-threatexchange signal type it becomes.
_SIGNAL_TYPES: t.Final[dict[str, type[SignalType]]] = {
    SIGNAL_PDQ: PdqSignal,
    SIGNAL_MD5: VideoMD5Signal,
    SIGNAL_VPDQ: OpenNCIIVideoPdqSignal,
}
_OPINIONS: t.Final = {
    "Blocked": state.SignalOpinionCategory.POSITIVE_CLASS,
    "NotBlocked": state.SignalOpinionCategory.NEGATIVE_CLASS,
}


@dataclass
class OpenNCIICheckpoint(state.FetchCheckpointBase):
    """Where the next fetch starts (``update_time``: the feed's ``nextSetTimestamp``) and when
    the last one ran."""

    update_time: int
    last_fetch_time: int

    def is_stale(self) -> bool:
        """After 30 days the server has forgotten withdrawals: fetch everything again."""
        return time.time() - self.last_fetch_time > MAX_CHECKPOINT_AGE.total_seconds()

    def get_progress_timestamp(self) -> int | None:
        return self.update_time


@dataclass
class OpenNCIIFeedback:
    """Another platform's outcome for a hash."""

    feedback: str
    tags: list[str]
    source: str


@dataclass
class OpenNCIISignalMetadata(state.FetchedSignalMetadata):
    """What the feed says about an active hash: opaque case references and feedback."""

    case_refs: list[str] = field(default_factory=list)
    feedbacks: list[OpenNCIIFeedback] = field(default_factory=list)

    def get_as_opinions(self) -> t.Sequence[state.SignalOpinion]:
        opinions = [
            state.SignalOpinion(
                False,
                _OPINIONS.get(f.feedback, state.SignalOpinionCategory.INVESTIGATION_SEED),
                set(f.tags),
            )
            for f in self.feedbacks
        ]
        # Every hash comes from a person's case: a seed for investigation at least.
        opinions.append(
            state.SignalOpinion(False, state.SignalOpinionCategory.INVESTIGATION_SEED, set())
        )
        return opinions

    def __str__(self) -> str:
        outcomes = ",".join(
            f"{'+' if f.feedback == 'Blocked' else '-' if f.feedback == 'NotBlocked' else '?'}"
            f"{f.source}"
            for f in sorted(self.feedbacks, key=lambda f: f.source)
        )
        category = self.get_as_aggregate_opinion().category.name
        return f"{category} cases={len(self.case_refs)} {outcomes}".rstrip()


def _metadata(record: HashRecord) -> OpenNCIISignalMetadata:
    return OpenNCIISignalMetadata(
        case_refs=sorted(ref for ref, status in record.case_refs.items() if status == "Active"),
        feedbacks=[OpenNCIIFeedback(f.feedback, list(f.tags), f.source) for f in record.feedbacks],
    )


def _signals(record: HashRecord) -> list[tuple[str, str]]:
    """The record's (signal type name, signal string) keys: none for unknown types; a vPDQ
    record is both an ``openncii_vpdq`` and a stock ``vpdq`` signal (whichever is enabled)."""
    signal_type = _SIGNAL_TYPES.get(record.signal_type)
    if signal_type is None:
        return []
    if signal_type is OpenNCIIVideoPdqSignal:
        return [
            (signal_type.get_name(), from_feed_value(record.value)),
            (STOCK_VPDQ_NAME, to_stock_signal(record.value)),
        ]
    return [(signal_type.get_name(), record.value)]


class OpenNCIISignalExchangeAPI(
    auth.SignalExchangeWithAuth[OpenNCIICollabConfig, OpenNCIICredentials],
    signal_exchange_api.SignalExchangeAPIWithSimpleUpdates[
        OpenNCIICollabConfig, OpenNCIICheckpoint, OpenNCIISignalMetadata
    ],
):
    """An OpenNCII server's partner feed as a python-threatexchange exchange (``openncii``)."""

    def __init__(self, collab: OpenNCIICollabConfig, client: FeedClient) -> None:
        super().__init__()
        self.collab = collab
        self.client = client

    @classmethod
    def get_name(cls) -> str:
        return API_NAME

    @staticmethod
    def get_config_cls() -> type[OpenNCIICollabConfig]:
        return OpenNCIICollabConfig

    @staticmethod
    def get_checkpoint_cls() -> type[OpenNCIICheckpoint]:
        return OpenNCIICheckpoint

    @staticmethod
    def get_record_cls() -> type[OpenNCIISignalMetadata]:
        return OpenNCIISignalMetadata

    @staticmethod
    def get_credential_cls() -> type[OpenNCIICredentials]:
        return OpenNCIICredentials

    @classmethod
    def for_collab(
        cls,
        collab: OpenNCIICollabConfig,
        credentials: OpenNCIICredentials | None = None,
    ) -> OpenNCIISignalExchangeAPI:
        credentials = credentials or OpenNCIICredentials.get(cls)
        if not collab.server:
            raise auth.SignalExchangeAPIInvalidAuthException(
                cls,
                f"the collaboration {collab.name!r} has no server: "
                f"threatexchange config collab edit {API_NAME} {collab.name} --server URL",
            )
        return cls(collab, FeedClient(collab.server, credentials.key))

    def fetch_iter(
        self,
        supported_signal_types: t.Sequence[type[SignalType]],
        checkpoint: OpenNCIICheckpoint | None,
    ) -> t.Iterator[state.FetchDelta[tuple[str, str], OpenNCIISignalMetadata, OpenNCIICheckpoint]]:
        """One delta per feed page. Records of withdrawn or deleted hashes (any status but
        ``Active``) are deletions (``None``)."""
        wanted = {signal_type.get_name() for signal_type in supported_signal_types}
        start = 0 if checkpoint is None else checkpoint.update_time
        for page in self.client.iter_pages(start):
            updates: dict[tuple[str, str], OpenNCIISignalMetadata | None] = {}
            for record in page.records:
                for key in _signals(record):
                    if key[0] in wanted:
                        updates[key] = _metadata(record) if record.active else None
            yield state.FetchDelta(
                updates, OpenNCIICheckpoint(page.next_set_timestamp, int(time.time()))
            )

    def report_opinion(
        self,
        s_type: type[SignalType],
        signal: str,
        opinion: state.SignalOpinion,
    ) -> None:
        """Send the opinion as feedback: Blocked, NotBlocked or PendingReview, with its tags.

        Not for stock ``vpdq`` signals (:class:`NotImplementedError`): their form has no frame
        numbers, so the signature the server knows cannot be rebuilt from them; report the
        same video's ``openncii_vpdq`` signal instead.
        """
        if s_type.get_name() == STOCK_VPDQ_NAME:
            raise NotImplementedError(
                "feedback on stock vpdq signals is not possible (they lack frame numbers); "
                "report the video's openncii_vpdq signal"
            )
        if opinion.category == state.SignalOpinionCategory.POSITIVE_CLASS:
            value = "Blocked"
        elif opinion.category == state.SignalOpinionCategory.NEGATIVE_CLASS:
            value = "NotBlocked"
        else:
            value = "PendingReview"
        hash_value = to_feed_value(signal) if s_type is OpenNCIIVideoPdqSignal else signal
        self.client.submit_feedback([FeedbackItem(hash_value, value, tuple(sorted(opinion.tags)))])
