"""Staff accounts of the helpline console: set-up links, sign-in (password + TOTP), sessions.

* An account is made by an admin (or ``openncii staff add`` on the server) with a one-time
  set-up link; the person opens it, chooses a password (:mod:`openncii.staff.passwords`) and
  enrols an authenticator (:mod:`openncii.staff.totp`) by typing its first code. ``reset``
  makes a new link and clears both; ``disable`` ends the account's sessions and refuses it.
* Sign-in needs the e-mail, the password and a TOTP code never used before. Failures are
  counted per typed e-mail (whether an account has it or not) and per client, before the
  password is checked; either budget spent locks sign-in for a while. Every failure gets the
  same :class:`~openncii.errors.StaffAuthError` and costs the same argon2 time.
* Sessions live in ``staff_sessions``: the browser holds a random token, the table its SHA-256
  digest and the CSRF token of the session. A session ends after ``idle`` without a request or
  ``absolute`` after sign-in, whichever comes first.

No HTTP here: the console's routes (``openncii.api.routes.console``) call these functions.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openncii import audit
from openncii.cases.abuse import RateLimit, count_request, give_back_request
from openncii.cases.pins import PinHasher
from openncii.db.models import STAFF_ADMIN, STAFF_ROLES, Staff, StaffSession
from openncii.errors import (
    ForbiddenError,
    RateLimitedError,
    SetupLinkError,
    SignInLockedError,
    StaffAuthError,
    StaffError,
    StaffExistsError,
    StaffNotFoundError,
)
from openncii.settings import Settings
from openncii.staff.passwords import MAX_PASSWORD_CHARS, check_password
from openncii.staff.totp import matching_step, new_totp_secret, otpauth_uri

__all__ = [
    "SETUP_PATH",
    "ConsoleSession",
    "SetupLink",
    "SetupView",
    "SignedIn",
    "StaffInfo",
    "StaffPolicy",
    "add_staff",
    "clean_email",
    "complete_setup",
    "current_session",
    "disable_staff",
    "list_staff",
    "require_admin",
    "reset_staff",
    "setup_url",
    "setup_view",
    "sign_in",
    "sign_out",
    "sign_out_everywhere",
]

#: Where a set-up link leads: the console page, the token in the fragment (a fragment is never
#: sent to a server, so the token stays out of access logs and Referer headers).
SETUP_PATH: Final = "/admin/#setup="
_TOKEN_BYTES: Final = 32
#: Rate-counter buckets of console sign-in tries (``rate_counters``).
BUCKET_STAFF_ACCOUNT: Final = "staff-signin"
BUCKET_STAFF_CLIENT: Final = "staff-client"
_EMAIL_RE: Final = re.compile(
    r"[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*\.[a-z]{2,63}"
)
#: ``last_seen_at`` is written at most this often (a request does not cost a write each).
_TOUCH_EVERY: Final = timedelta(seconds=60)
_SIGN_IN_FAILED: Final = "The e-mail, password or authenticator code is not right."
_NO_SESSION: Final = "Please sign in to the console."


@dataclass(frozen=True, slots=True)
class StaffPolicy:
    """The console's rules, from the settings."""

    setup_ttl: timedelta = timedelta(hours=24)
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    #: Failed sign-ins per typed e-mail, and per client, in each window.
    account_limit: RateLimit = field(default_factory=lambda: RateLimit(5, 15 * 60))
    client_limit: RateLimit = field(default_factory=lambda: RateLimit(20, 15 * 60))
    issuer: str = "OpenNCII"

    @classmethod
    def from_settings(cls, settings: Settings) -> StaffPolicy:
        window = settings.console_signin_window_minutes * 60
        return cls(
            setup_ttl=timedelta(hours=settings.console_setup_hours),
            idle=timedelta(minutes=settings.console_idle_minutes),
            absolute=timedelta(hours=settings.console_session_hours),
            account_limit=RateLimit(settings.console_signin_failures, window),
            client_limit=RateLimit(settings.console_client_failures, window),
        )


@dataclass(frozen=True, slots=True)
class StaffInfo:
    id: int
    email: str
    role: str
    created_at: datetime
    disabled_at: datetime | None
    enrolled: bool
    setup_expires_at: datetime | None

    @property
    def state(self) -> str:
        """``active``, ``disabled`` or ``setup`` (waiting for the set-up link to be used)."""
        if self.disabled_at is not None:
            return "disabled"
        return "active" if self.enrolled else "setup"


@dataclass(frozen=True, slots=True)
class SetupLink:
    """A new set-up token (shown once, in the link) for ``staff``."""

    staff: StaffInfo
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SetupView:
    """What the set-up page shows: the account and the authenticator to enrol."""

    email: str
    totp_secret: str
    otpauth_uri: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A new session: ``token`` goes in the cookie, ``csrf_token`` to the page."""

    token: str
    csrf_token: str
    staff: StaffInfo


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The staff member behind a valid session."""

    staff: StaffInfo
    digest: str
    csrf_token: str

    def check_csrf(self, token: str | None) -> None:
        """Raise :class:`ForbiddenError` unless ``token`` is this session's CSRF token."""
        if not token or not hmac.compare_digest(token.encode(), self.csrf_token.encode()):
            raise ForbiddenError("The request lacks the console's security token: reload.")


def setup_url(base_url: str, token: str) -> str:
    """The set-up link for ``token`` on the server at ``base_url``."""
    return base_url.rstrip("/") + SETUP_PATH + token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row: Staff) -> StaffInfo:
    return StaffInfo(
        row.id,
        row.email,
        row.role,
        row.created_at,
        row.disabled_at,
        row.password_hash is not None and row.setup_digest is None,
        row.setup_expires_at if row.setup_digest is not None else None,
    )


def clean_email(email: str) -> str:
    """The stored form of an e-mail address (trimmed, lowercase); raises :class:`StaffError`."""
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not _EMAIL_RE.fullmatch(cleaned):
        raise StaffError("Enter an e-mail address such as name@example.org.")
    return cleaned


def _role(role: str) -> str:
    if role not in STAFF_ROLES:
        raise StaffError(f"A role is one of: {', '.join(STAFF_ROLES)}.")
    return role


def _new_setup(row: Staff, now: datetime, policy: StaffPolicy) -> SetupLink:
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    row.setup_digest = _digest(token)
    row.setup_expires_at = now + policy.setup_ttl
    row.totp_secret = new_totp_secret()
    row.totp_last_step = None
    row.password_hash = None
    return SetupLink(_info(row), token, row.setup_expires_at)


def _find(session: Session, email: str, *, lock: bool = False) -> Staff:
    cleaned = email.strip().lower()
    query = select(Staff).where(Staff.email == cleaned)
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise StaffNotFoundError(f"No staff account has the e-mail {cleaned!r}.")
    return row


def add_staff(
    session: Session,
    email: str,
    role: str,
    now: datetime,
    policy: StaffPolicy,
    *,
    actor: str | None,
    network: str | None,
) -> SetupLink:
    """A new account and its set-up link. Raises :class:`StaffExistsError`."""
    cleaned, role = clean_email(email), _role(role)
    try:
        with session.begin():
            row = Staff(email=cleaned, role=role, created_at=now)
            link = _new_setup(row, now, policy)
            session.add(row)
            session.flush()
            audit.record(
                session,
                "staff.add",
                now,
                actor=actor,
                network=network,
                target=cleaned,
                detail=f"role {role}",
            )
            link = SetupLink(_info(row), link.token, link.expires_at)
    except IntegrityError:
        raise StaffExistsError(f"A staff account with the e-mail {cleaned!r} exists.") from None
    return link


def list_staff(session: Session) -> list[StaffInfo]:
    """Every account, by e-mail."""
    with session.begin():
        return [_info(row) for row in session.scalars(select(Staff).order_by(Staff.email))]


def reset_staff(
    session: Session,
    email: str,
    now: datetime,
    policy: StaffPolicy,
    *,
    actor: str | None,
    network: str | None,
) -> SetupLink:
    """Clear the password and authenticator, end the sessions, make a new set-up link (a
    disabled account is enabled again by it)."""
    with session.begin():
        row = _find(session, email, lock=True)
        link = _new_setup(row, now, policy)
        row.disabled_at = None
        session.execute(delete(StaffSession).where(StaffSession.staff_id == row.id))
        audit.record(session, "staff.reset", now, actor=actor, network=network, target=row.email)
        return SetupLink(_info(row), link.token, link.expires_at)


def disable_staff(
    session: Session, email: str, now: datetime, *, actor: str | None, network: str | None
) -> StaffInfo:
    """Refuse the account from now on and end its sessions (idempotent)."""
    with session.begin():
        row = _find(session, email, lock=True)
        if row.disabled_at is None:
            row.disabled_at = now
        row.setup_digest = None
        session.execute(delete(StaffSession).where(StaffSession.staff_id == row.id))
        audit.record(session, "staff.disable", now, actor=actor, network=network, target=row.email)
        return _info(row)


def _pending(session: Session, token: str, now: datetime, *, lock: bool = False) -> Staff:
    if not token or len(token) > 200:
        raise SetupLinkError(_SETUP_INVALID)
    query = select(Staff).where(Staff.setup_digest == _digest(token))
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is None or row.disabled_at is not None:
        raise SetupLinkError(_SETUP_INVALID)
    if row.setup_expires_at is None or row.setup_expires_at <= now:
        raise SetupLinkError("This set-up link has expired. Ask an administrator for a new one.")
    return row


_SETUP_INVALID: Final = "This set-up link is not valid (already used?). Ask an administrator."


def setup_view(session: Session, token: str, now: datetime, policy: StaffPolicy) -> SetupView:
    """The account and authenticator secret behind a set-up token."""
    with session.begin():
        row = _pending(session, token, now)
        assert row.totp_secret is not None and row.setup_expires_at is not None
        uri = otpauth_uri(row.totp_secret, row.email, policy.issuer)
        return SetupView(row.email, row.totp_secret, uri, row.setup_expires_at)


def complete_setup(
    session: Session,
    hasher: PinHasher,
    token: str,
    password: str,
    code: str,
    now: datetime,
    *,
    network: str | None,
) -> StaffInfo:
    """Set the password and confirm the authenticator with its current code; the link is then
    used up. Raises :class:`SetupLinkError`, :class:`WeakPasswordError` or
    :class:`StaffAuthError` (wrong code); nothing changes then."""
    with session.begin():
        row = _pending(session, token, now)
        email = row.email
        check_password(password, email)
        assert row.totp_secret is not None
        if matching_step(row.totp_secret, code, now, after=None) is None:
            raise StaffAuthError(
                "The authenticator code is not right. Check the phone's clock and type the "
                "code it shows now."
            )
    password_hash = hasher.hash(password)  # argon2 outside the transaction
    with session.begin():
        row = _pending(session, token, now, lock=True)
        assert row.totp_secret is not None
        step = matching_step(row.totp_secret, code, now, after=None)
        if step is None:
            raise StaffAuthError("The authenticator code is not right.")
        row.password_hash = password_hash
        row.totp_last_step = step
        row.setup_digest = None
        row.setup_expires_at = None
        audit.record(session, "staff.setup", now, actor=row.email, network=network)
        return _info(row)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _throttle_key(secret: bytes, label: str, text: str) -> str:
    return hmac.new(secret, f"{label}\0{text}".encode(), hashlib.sha256).hexdigest()


def sign_in(
    session: Session,
    hasher: PinHasher,
    secret: bytes,
    email: str,
    password: str,
    code: str,
    now: datetime,
    policy: StaffPolicy,
    *,
    client: str,
    network: str | None,
) -> ConsoleSession:
    """Check e-mail, password and TOTP code; open a session. Raises :class:`StaffAuthError`
    for any wrong part and :class:`SignInLockedError` when a failure budget is spent."""
    typed = email.strip().lower()[:254]
    # Every try is counted before the password is checked (per typed e-mail, known or not, and
    # per client); a successful one is given back, so only failures add up.
    counters = (
        (BUCKET_STAFF_ACCOUNT, _throttle_key(secret, "staff", typed), policy.account_limit),
        (BUCKET_STAFF_CLIENT, client, policy.client_limit),
    )
    counted: list[tuple[str, str, RateLimit]] = []
    try:
        for counter in counters:
            count_request(session, *counter, now)
            counted.append(counter)
    except RateLimitedError as exc:
        for counter in counted:
            give_back_request(session, *counter, now)
        with session.begin():
            known = session.scalars(select(Staff.id).where(Staff.email == typed)).first()
            audit.record(
                session,
                "signin.failure",
                now,
                actor=None,
                network=network,
                target=typed if known is not None else None,
                detail="locked",
            )
        raise SignInLockedError(
            "Too many failed sign-ins. Please wait before trying again.",
            retry_after=exc.retry_after,
        ) from None
    with session.begin():
        row = session.scalars(select(Staff).where(Staff.email == typed)).one_or_none()
        stored = row.password_hash if row is not None and row.disabled_at is None else None
        staff_id = row.id if row is not None else None
    if stored is None or len(password) > MAX_PASSWORD_CHARS:
        hasher.verify_nothing(password[:MAX_PASSWORD_CHARS])
        ok = False
    else:
        ok = hasher.verify(stored, password)
    with session.begin():
        step = None
        if ok and staff_id is not None:
            row = session.scalars(select(Staff).where(Staff.id == staff_id).with_for_update()).one()
            if row.disabled_at is None and row.setup_digest is None and row.totp_secret:
                step = matching_step(row.totp_secret, code, now, after=row.totp_last_step)
            if step is not None:
                # Guarded update: of two requests with the same code, one wins.
                won = _rowcount(
                    session.execute(
                        update(Staff)
                        .where(
                            Staff.id == staff_id,
                            or_(Staff.totp_last_step.is_(None), Staff.totp_last_step < step),
                        )
                        .values(totp_last_step=step)
                    )
                )
                step = step if won else None
        success = step is not None
        if not success:
            audit.record(
                session,
                "signin.failure",
                now,
                actor=None,
                network=network,
                target=typed if staff_id is not None else None,
            )
    if not success:
        raise StaffAuthError(_SIGN_IN_FAILED)
    for counter in counters:
        give_back_request(session, *counter, now)
    token, csrf = secrets.token_urlsafe(_TOKEN_BYTES), secrets.token_urlsafe(_TOKEN_BYTES)
    with session.begin():
        row = session.scalars(select(Staff).where(Staff.id == staff_id)).one()
        session.add(
            StaffSession(
                digest=_digest(token),
                staff_id=row.id,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
            )
        )
        audit.record(session, "signin.success", now, actor=row.email, network=network)
        info = _info(row)
    return ConsoleSession(token, csrf, info)


def current_session(
    session: Session, token: str | None, now: datetime, policy: StaffPolicy
) -> SignedIn:
    """The staff member behind the session token, or :class:`StaffAuthError` (no session,
    expired, or of a disabled account)."""
    if not token or len(token) > 200:
        raise StaffAuthError(_NO_SESSION)
    digest = _digest(token)
    with session.begin():
        found = session.execute(
            select(StaffSession, Staff)
            .join(Staff, Staff.id == StaffSession.staff_id)
            .where(StaffSession.digest == digest)
        ).one_or_none()
        if found is None:
            raise StaffAuthError(_NO_SESSION)
        row, staff = found[0], found[1]
        expired = (
            now - row.last_seen_at > policy.idle
            or now - row.created_at > policy.absolute
            or staff.disabled_at is not None
            or staff.setup_digest is not None
        )
        if expired:
            session.execute(delete(StaffSession).where(StaffSession.digest == digest))
        elif now - row.last_seen_at >= _TOUCH_EVERY:
            row.last_seen_at = now
        signed_in = SignedIn(_info(staff), digest, row.csrf_token)
    if expired:
        raise StaffAuthError(_NO_SESSION)
    return signed_in


def require_admin(signed_in: SignedIn) -> None:
    """Raise :class:`ForbiddenError` unless the staff member is an admin."""
    if signed_in.staff.role != STAFF_ADMIN:
        raise ForbiddenError("Only an administrator may do this.")


def sign_out(session: Session, signed_in: SignedIn, now: datetime, *, network: str | None) -> None:
    """End this session."""
    with session.begin():
        session.execute(delete(StaffSession).where(StaffSession.digest == signed_in.digest))
        audit.record(session, "signout", now, actor=signed_in.staff.email, network=network)


def sign_out_everywhere(
    session: Session, signed_in: SignedIn, now: datetime, *, network: str | None
) -> int:
    """End every session of the staff member (this one too); the number ended."""
    with session.begin():
        ended = _rowcount(
            session.execute(delete(StaffSession).where(StaffSession.staff_id == signed_in.staff.id))
        )
        audit.record(
            session,
            "signout.everywhere",
            now,
            actor=signed_in.staff.email,
            network=network,
            detail=f"{ended} sessions",
        )
    return int(ended)
