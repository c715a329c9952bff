"""The partner feed (domain layer): a StopNCII-compatible hash feed, feedback and submissions.

No FastAPI and no HTTP here: functions take a session and plain values and raise
:mod:`openncii.errors` exceptions. ``openncii.api.routes.partner_feed`` serves them under ``/v1``.

- :mod:`~openncii.feed.pages`: ``FetchHashes`` pages (records built by PostgreSQL or in Python);
- :mod:`~openncii.feed.feedback`: ``SubmitFeedback``;
- :mod:`~openncii.feed.submissions`: ``SubmitHashes``;
- :mod:`~openncii.feed.retention`: the purge of old withdrawals;
- :mod:`~openncii.feed.cursor` and :mod:`~openncii.feed.tokens`: checkpoints and page tokens.
"""

from __future__ import annotations

from openncii.feed.cursor import MAX_LEAD_SECONDS
from openncii.feed.feedback import (
    MAX_BATCH,
    MAX_TAG_CHARS,
    MAX_TAGS,
    FeedbackItem,
    FeedbackResult,
    submit_feedback,
)
from openncii.feed.pages import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    FeedPage,
    fetch_page,
    rebuild_record_cache,
)
from openncii.feed.retention import purge_withdrawn
from openncii.feed.submissions import (
    SubmittedHash,
    check_can_submit,
    submit_hashes,
    submitted_type_names,
)
from openncii.feed.tokens import PageToken, decode_page_token, encode_page_token

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "FEED_TOKEN_SECRET",
    "MAX_BATCH",
    "MAX_LEAD_SECONDS",
    "MAX_PAGE_SIZE",
    "MAX_TAGS",
    "MAX_TAG_CHARS",
    "FeedPage",
    "FeedbackItem",
    "FeedbackResult",
    "PageToken",
    "SubmittedHash",
    "check_can_submit",
    "decode_page_token",
    "encode_page_token",
    "fetch_page",
    "purge_withdrawn",
    "rebuild_record_cache",
    "submit_feedback",
    "submit_hashes",
    "submitted_type_names",
]

#: Name of the server secret (``openncii.db.server_secrets``) that signs page tokens.
FEED_TOKEN_SECRET = "feed-page-token"  # noqa: S105 - the name of a secret, not a secret
