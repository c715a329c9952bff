"""The one exception tree of OpenNCII.

Every error the library raises on purpose derives from :class:`OpenNCIIError`. Domain services
raise these; only :mod:`openncii.serving.errors` (used by both HTTP services) turns them into
HTTP answers, one status each, and only ``openncii.cli`` into exit statuses. Messages are
written for people: they say what is wrong and, where it helps, what to do. They never contain
PINs, hash values or media bytes.

The whole tree (``tests/test_errors.py`` checks this drawing against the classes)::

    OpenNCIIError
    ├── MediaError                      the file could not be hashed
    │   ├── UnsupportedMediaError       not an image or video format we decode
    │   ├── CorruptMediaError           truncated, empty or malformed data
    │   └── MediaTooLargeError          pixel or frame limits exceeded (decompression bombs)
    ├── SignalError                     a hash value is malformed or unusable
    │   ├── InvalidHashError            wrong length, not hex, unknown type
    │   └── LowQualityError             PDQ quality below the shareable minimum
    ├── ServiceError                    the server: case service, partners, partner API
    │   ├── ConfigurationError          a setting (database URL, deny-list file) is unusable
    │   ├── NotEligibleError            an eligibility answer is "no" (says where to get help)
    │   ├── CaseRejectedError           the submitted hashes cannot open a case
    │   │   ├── HashRejectedError       one hash is malformed, low quality or degenerate
    │   │   └── TooManyHashesError      more hashes than a case may hold
    │   ├── AuthenticationError         wrong PIN or unknown case number: one error for both
    │   │   ├── PartnerKeyError         no partner API key, or a wrong or revoked one
    │   │   └── StaffAuthError          console sign-in failed, or no valid console session
    │   ├── RateLimitedError            too many requests from this client (retry_after)
    │   │   ├── CaseLockedError         too many wrong PINs for this case number
    │   │   └── SignInLockedError       too many failed console sign-ins (account or client)
    │   ├── ForbiddenError              signed in, but the role or the CSRF token forbids it
    │   ├── StaffError                  a staff-account request the console refuses
    │   │   ├── SetupLinkError          the set-up link is unknown, used or expired
    │   │   ├── WeakPasswordError       too short, too long or a common password
    │   │   ├── StaffExistsError        a staff account with this e-mail exists
    │   │   └── StaffNotFoundError      no staff account with this e-mail
    │   ├── ServiceBusyError            PIN hashing is at capacity right now (retry_after)
    │   ├── PartnerExistsError          a partner with this name exists
    │   ├── PartnerNotFoundError        no partner with this name
    │   ├── SettingError                a console setting is not valid (``field`` names it)
    │   │   └── HelplineError           a helpline entry is invalid, or there is none with this id
    │   │       └── HelplineNotFoundError  no helpline has this id
    │   ├── ReviewError                 a hash-review request the console refuses
    │   │   └── HashNotFoundError       no hash (or deny-list entry) with this id
    │   └── PartnerRequestError         a partner-API request the server refuses
    │       ├── PageTokenError          nextPageToken forged, altered, expired or of another fetch
    │       └── SubmissionNotAllowedError  the partner may not contribute hashes
    └── PartnerClientError              the partner side: sync client, local store
        ├── FeedError                   talking to the partner API failed
        │   ├── FeedAuthError           the server refused the partner key (401/403)
        │   ├── FeedUnavailableError    network errors, 429 or 5xx until the retries ran out
        │   ├── FeedProtocolError       the answer is not what the partner API sends
        │   └── FeedRejectedError       the server refused the request itself (another 4xx)
        ├── PartnerStoreError           the local store file is unusable
        └── ScanSetupError              a scan's bank file or source is unusable (before work)

Each family name means one thing: ``except FeedError`` on the partner side catches every
failure to talk to the feed; ``except PartnerRequestError`` on the server every refusal of a
partner's request.
"""

from __future__ import annotations

__all__ = [
    "CorruptMediaError",
    "InvalidHashError",
    "LowQualityError",
    "MediaError",
    "MediaTooLargeError",
    "OpenNCIIError",
    "SignalError",
    "UnsupportedMediaError",
]


class OpenNCIIError(Exception):
    """Base class of every error OpenNCII raises on purpose."""


class MediaError(OpenNCIIError):
    """A media file could not be decoded or hashed."""


class UnsupportedMediaError(MediaError):
    """The file is not in an image or video format OpenNCII can decode."""


class CorruptMediaError(MediaError):
    """The file is empty, truncated or malformed."""


class MediaTooLargeError(MediaError):
    """The file claims more pixels or frames than we are willing to decode."""


class SignalError(OpenNCIIError):
    """A hash value is malformed or unusable."""


class InvalidHashError(SignalError, ValueError):
    """A hash value has the wrong length, is not hex, or has an unknown type."""


class LowQualityError(SignalError):
    """A PDQ hash's quality is below the minimum for sharing (50)."""


# Service errors: the server (openncii.cases, openncii.partners, openncii.feed, openncii.db).

__all__ += [
    "AuthenticationError",
    "CaseLockedError",
    "CaseRejectedError",
    "ConfigurationError",
    "ForbiddenError",
    "HashRejectedError",
    "HelplineError",
    "HelplineNotFoundError",
    "NotEligibleError",
    "PartnerExistsError",
    "PartnerKeyError",
    "PartnerNotFoundError",
    "RateLimitedError",
    "ServiceBusyError",
    "ServiceError",
    "SettingError",
    "SetupLinkError",
    "SignInLockedError",
    "StaffAuthError",
    "StaffError",
    "StaffExistsError",
    "StaffNotFoundError",
    "TooManyHashesError",
    "WeakPasswordError",
]


class ServiceError(OpenNCIIError):
    """An error of the server: the case service, partner management or the partner API."""


class ConfigurationError(ServiceError):
    """A setting is unusable (bad database URL, unreadable deny-list file, ...)."""


class NotEligibleError(ServiceError):
    """The person answered "no" to an eligibility question.

    ``question`` is the wire name of the question; ``help_url`` points to a service that can help.
    """

    def __init__(self, message: str, *, question: str, help_url: str | None = None) -> None:
        super().__init__(message)
        self.question = question
        self.help_url = help_url


class CaseRejectedError(ServiceError):
    """The submitted hashes cannot open a case; nothing was stored."""


class HashRejectedError(CaseRejectedError):
    """One submitted hash is malformed, of low quality or degenerate.

    ``index`` is its 0-based position in the request's ``hashes`` list.
    """

    def __init__(self, message: str, *, index: int) -> None:
        super().__init__(message)
        self.index = index


class TooManyHashesError(CaseRejectedError):
    """More hashes than one case may hold."""


class AuthenticationError(ServiceError):
    """The case number and PIN do not open a case (the same error whichever is wrong).

    ``tries_left``: for a case's PIN, the tries left before a pause (``None`` elsewhere)."""

    def __init__(self, message: str, *, tries_left: int | None = None) -> None:
        super().__init__(message)
        self.tries_left = tries_left


class PartnerKeyError(AuthenticationError):
    """The partner API request carries no partner key, or one that names no active partner (or
    keys of two different partners)."""


class RateLimitedError(ServiceError):
    """Too many requests; ``retry_after`` is the number of seconds to wait. ``challenge``, when
    set, is a proof of work that lets the request past the limit at once
    (:mod:`openncii.cases.proof`)."""

    def __init__(self, message: str, *, retry_after: int, challenge: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
        self.challenge = challenge


class CaseLockedError(RateLimitedError):
    """Too many wrong PINs were tried for this case number; it is locked for a while."""


class ServiceBusyError(ServiceError):
    """The server has more PIN work queued than it takes on; ``retry_after`` in seconds.

    Nothing was counted or changed: the same request may simply be sent again."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class StaffAuthError(AuthenticationError):
    """A console sign-in failed (the same error whether the account exists or not), or the
    request has no valid console session (none, expired, or of a disabled account)."""


class SignInLockedError(RateLimitedError):
    """Too many failed console sign-ins for this e-mail or from this client, for a while."""


class ForbiddenError(ServiceError):
    """The staff member is signed in, but their role may not do this, or the request lacks the
    session's CSRF token."""


class StaffError(ServiceError):
    """A staff-account request the console refuses (this class: the input is not valid)."""


class SetupLinkError(StaffError):
    """The set-up link is unknown, was already used, or has expired."""


class WeakPasswordError(StaffError):
    """The password is too short, too long or on the list of common passwords."""


class StaffExistsError(StaffError):
    """A staff account with this e-mail address exists."""


class StaffNotFoundError(StaffError):
    """No staff account has this e-mail address."""


class PartnerExistsError(ServiceError):
    """A partner with this name already exists."""


class PartnerNotFoundError(ServiceError):
    """No partner has this name."""


class SettingError(ServiceError):
    """A setting the helpline types in the console is not valid (an e-mail address, a web
    address, a phone number); nothing was changed. ``field`` names the setting, for the form."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class HelplineError(SettingError):
    """A helpline entry is invalid (country, language, address), or none has this id."""


class HelplineNotFoundError(HelplineError):
    """No helpline has this id."""


__all__ += ["HashNotFoundError", "ReviewError"]


class ReviewError(ServiceError):
    """A hash-review request the console refuses (no reason given, nothing to re-enable)."""


class HashNotFoundError(ReviewError):
    """No hash, or no deny-list entry, has this id."""


# Partner-API errors (openncii.feed and the /v1 routes).

__all__ += ["PageTokenError", "PartnerRequestError", "SubmissionNotAllowedError"]


class PartnerRequestError(ServiceError):
    """A partner-API request the server refuses: a parameter is out of range or inconsistent
    (this class itself), or one of the subclasses."""


class PageTokenError(PartnerRequestError):
    """The page token is not one this server issued for this fetch, or it has expired."""


class SubmissionNotAllowedError(PartnerRequestError):
    """The partner is not allowed by the helpline to contribute hashes."""


# Partner-side errors (openncii.partner): the sync client, the local store. The
# ``openncii partner`` commands map each to an exit status (the table in openncii.cli.common).

__all__ += [
    "FeedAuthError",
    "FeedError",
    "FeedProtocolError",
    "FeedRejectedError",
    "FeedUnavailableError",
    "PartnerClientError",
    "PartnerStoreError",
    "ScanSetupError",
]


class PartnerClientError(OpenNCIIError):
    """A partner-side operation (sync, feedback, local store) could not be completed."""


class FeedError(PartnerClientError):
    """Talking to the partner API failed (one of the subclasses)."""


class FeedAuthError(FeedError):
    """The server refused the partner key (401 or 403): wrong, revoked or not allowed."""


class FeedUnavailableError(FeedError):
    """The server could not be reached or kept failing (network error, 429, 5xx) until the
    retries ran out. ``status`` is the last HTTP status, ``None`` after a network error."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class FeedProtocolError(FeedError):
    """An answer is not what the partner API sends (not JSON, a missing or mistyped field, an
    unknown status); nothing of it was stored."""


class FeedRejectedError(FeedError):
    """The server refused the request (a 4xx other than 401, 403 and 429); ``status`` is it."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class PartnerStoreError(PartnerClientError):
    """The local partner store cannot be used (written by a newer version, or not a store)."""


class ScanSetupError(PartnerClientError):
    """A scan cannot start: its bank file is missing, damaged or of another format version, or
    its source names no file or table. Raised before any media is read."""
