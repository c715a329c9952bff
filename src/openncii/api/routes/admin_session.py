"""``/admin/api/session`` and ``/admin/api/setup``: set-up links, sign-in and sign-out of the
helpline console (see :mod:`openncii.api.console`)."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request, Response

from openncii.api.console import (
    ADMIN_API_PREFIX,
    OriginDep,
    SignedInDep,
    StaffActionDep,
    clear_session_cookie,
    set_session_cookie,
)
from openncii.api.console_schemas import (
    SetupIn,
    SetupTokenIn,
    SetupViewOut,
    SignedInOut,
    SignInIn,
    StaffOut,
)
from openncii.api.deps import (
    ClientDep,
    NetworkDep,
    NowDep,
    RuntimeDep,
    SessionDep,
)
from openncii.staff import (
    SignedIn,
    StaffInfo,
    complete_setup,
    setup_view,
    sign_in,
    sign_out,
    sign_out_everywhere,
)
from openncii.staff.totp import qr_svg

__all__ = ["PASSWORD_PATHS", "router", "staff_out"]

#: The paths that hash a password (argon2id): admitted into the bounded pool like PIN checks.
PASSWORD_PATHS: Final = (ADMIN_API_PREFIX + "/setup", ADMIN_API_PREFIX + "/session")

router = APIRouter(prefix=ADMIN_API_PREFIX, tags=["console"], include_in_schema=False)


def staff_out(info: StaffInfo) -> StaffOut:
    return StaffOut(
        email=info.email,
        role=info.role,
        state=info.state,
        created_at=info.created_at,
        disabled_at=info.disabled_at,
        setup_expires_at=info.setup_expires_at,
    )


def _signed_in_out(signed_in: SignedIn, runtime: RuntimeDep) -> SignedInOut:
    return SignedInOut(
        staff=staff_out(signed_in.staff),
        csrf_token=signed_in.csrf_token,
        idle_minutes=runtime.settings.console_idle_minutes,
    )


@router.post("/setup/view")
def post_setup_view(
    body: SetupTokenIn, session: SessionDep, runtime: RuntimeDep, now: NowDep, _o: OriginDep
) -> SetupViewOut:
    """The account of a set-up link and the authenticator to enrol (its QR code as SVG)."""
    view = setup_view(session, body.token, now, runtime.staff_policy)
    return SetupViewOut(
        email=view.email,
        totp_secret=view.totp_secret,
        qr_svg=qr_svg(view.otpauth_uri, "TOTP"),
        expires_at=view.expires_at,
    )


@router.post("/setup")
def post_setup(
    body: SetupIn,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    network: NetworkDep,
    _o: OriginDep,
) -> StaffOut:
    """Choose the password and confirm the authenticator; the link is then used up."""
    info = complete_setup(
        session, runtime.rules.pins, body.token, body.password, body.code, now, network=network
    )
    return staff_out(info)


@router.post("/session")
def post_session(
    body: SignInIn,
    request: Request,
    response: Response,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    client: ClientDep,
    network: NetworkDep,
    _o: OriginDep,
) -> SignedInOut:
    """Sign in with e-mail, password and authenticator code: a new session (cookie)."""
    console = sign_in(
        session,
        runtime.rules.pins,
        runtime.secret(),
        body.email,
        body.password,
        body.code,
        now,
        runtime.staff_policy,
        client=client,
        network=network,
    )
    set_session_cookie(request, response, console)
    return SignedInOut(
        staff=staff_out(console.staff),
        csrf_token=console.csrf_token,
        idle_minutes=runtime.settings.console_idle_minutes,
    )


@router.get("/session")
def get_session(signed_in: SignedInDep, runtime: RuntimeDep) -> SignedInOut:
    """Who is signed in, and the session's CSRF token (for the page's requests)."""
    return _signed_in_out(signed_in, runtime)


@router.delete("/session", status_code=204)
def delete_session(
    request: Request,
    signed_in: StaffActionDep,
    session: SessionDep,
    now: NowDep,
    network: NetworkDep,
) -> Response:
    """Sign out (this session)."""
    sign_out(session, signed_in, now, network=network)
    return _signed_out(request)


@router.post("/session/everywhere", status_code=204)
def post_sign_out_everywhere(
    request: Request,
    signed_in: StaffActionDep,
    session: SessionDep,
    now: NowDep,
    network: NetworkDep,
) -> Response:
    """Sign out everywhere: every session of this staff member ends."""
    sign_out_everywhere(session, signed_in, now, network=network)
    return _signed_out(request)


def _signed_out(request: Request) -> Response:
    """The answer to a sign-out: no content, and the session cookie cleared."""
    response = Response(status_code=204)
    clear_session_cookie(request, response)
    return response
