"""What every route of the helpline console (``/admin``) shares: the session cookie, the
signed-in staff member, the admin check and the CSRF check.

* The cookie ``openncii_console`` holds a random session token: ``HttpOnly``,
  ``SameSite=Strict``, ``Path=/admin``, and ``Secure`` unless the console is reached on a
  loopback address (plain HTTP there). A new token is made at every sign-in (no fixation).
* Every state-changing request (POST, PUT, PATCH, DELETE) of a signed-in staff member carries
  the session's CSRF token in ``X-CSRF-Token`` (:data:`StaffActionDep`, :data:`AdminActionDep`);
  a request whose ``Origin`` is another site is refused whatever it carries.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Final

from fastapi import Depends, Request, Response

from openncii.api.deps import NowDep, RuntimeDep, SessionDep
from openncii.errors import ForbiddenError
from openncii.staff import ConsoleSession, SignedIn, current_session, require_admin

__all__ = [
    "ADMIN_API_PREFIX",
    "ADMIN_PATH",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "AdminActionDep",
    "AdminDep",
    "OriginDep",
    "SignedInDep",
    "StaffActionDep",
    "check_origin",
    "clear_session_cookie",
    "set_session_cookie",
]

ADMIN_PATH: Final = "/admin"
ADMIN_API_PREFIX: Final = "/admin/api"
SESSION_COOKIE: Final = "openncii_console"
CSRF_HEADER: Final = "X-CSRF-Token"
_LOOPBACK_NAMES: Final = frozenset({"localhost"})


def _loopback(request: Request) -> bool:
    host = request.url.hostname or ""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def set_session_cookie(request: Request, response: Response, console: ConsoleSession) -> None:
    """Give the browser the new session's token (the only cookie OpenNCII ever sets)."""
    response.set_cookie(
        SESSION_COOKIE,
        console.token,
        path=ADMIN_PATH,
        httponly=True,
        samesite="strict",
        secure=not _loopback(request),
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path=ADMIN_PATH,
        httponly=True,
        samesite="strict",
        secure=not _loopback(request),
    )


def check_origin(request: Request) -> None:
    """Refuse a request that a page of another site sent (its ``Origin`` is not ours)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin != own:
        raise ForbiddenError("The console answers only its own pages.")


OriginDep = Annotated[None, Depends(check_origin)]


def get_signed_in(
    request: Request, session: SessionDep, runtime: RuntimeDep, now: NowDep, _origin: OriginDep
) -> SignedIn:
    """The staff member of the request's session; 401 without a valid one."""
    return current_session(session, request.cookies.get(SESSION_COOKIE), now, runtime.staff_policy)


SignedInDep = Annotated[SignedIn, Depends(get_signed_in)]


async def get_admin(signed_in: SignedInDep) -> SignedIn:
    """The signed-in staff member, who must be an admin (403 otherwise)."""
    require_admin(signed_in)
    return signed_in


AdminDep = Annotated[SignedIn, Depends(get_admin)]


async def get_staff_action(request: Request, signed_in: SignedInDep) -> SignedIn:
    """A signed-in staff member's state-changing request, with the session's CSRF token."""
    signed_in.check_csrf(request.headers.get(CSRF_HEADER))
    return signed_in


StaffActionDep = Annotated[SignedIn, Depends(get_staff_action)]


async def get_admin_action(request: Request, signed_in: SignedInDep) -> SignedIn:
    """An admin's state-changing request, with the session's CSRF token."""
    signed_in.check_csrf(request.headers.get(CSRF_HEADER))
    require_admin(signed_in)
    return signed_in


AdminActionDep = Annotated[SignedIn, Depends(get_admin_action)]
