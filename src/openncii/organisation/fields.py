"""The values a helpline types into its settings: names, web addresses, e-mail addresses and
phone numbers. One home for their rules, used by the organisation's settings
(:mod:`openncii.organisation.service`) and the local helplines (:mod:`openncii.helplines`).

Each function takes what was typed and returns the value to store, or raises the given
:class:`~openncii.errors.SettingError` class with the field's name. The values become links on
the pages for people (``https:`` addresses, ``mailto:`` and ``tel:``), so only what makes a
plain, safe link passes.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

from openncii.errors import SettingError

__all__ = [
    "MAX_EMAIL",
    "MAX_NAME",
    "MAX_PHONE",
    "MAX_URL",
    "clean_email",
    "clean_https_url",
    "clean_name",
    "clean_phone",
]

MAX_NAME: Final = 200
MAX_URL: Final = 500
MAX_EMAIL: Final = 254
MAX_PHONE: Final = 40

_PHONE_RE: Final = re.compile(r"\+?[0-9][0-9 ()./-]{1,38}")
_LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_RE: Final = re.compile(
    rf"[A-Za-z0-9.!#$%&'*+/=^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}"
)
#: Characters no web address holds as they are (RFC 3986: they are percent-encoded).
_NOT_IN_URLS: Final = frozenset('<>"`{}|\\^')
_HOST_RE: Final = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.[A-Za-z][A-Za-z0-9-]{{1,62}}")


def _printable(value: str) -> bool:
    return value.isprintable() and not any(c.isspace() for c in value)


def clean_name(value: str, *, field: str = "name", error: type[SettingError] = SettingError) -> str:
    """A name as people read it: spaces collapsed, 1 to :data:`MAX_NAME` characters."""
    name = " ".join(value.split())
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise error(f"the name must have 1 to {MAX_NAME} characters", field=field)
    return name


def clean_https_url(
    value: str, *, field: str = "url", error: type[SettingError] = SettingError
) -> str:
    """An ``https://`` address of a public site (a host name with a dot; no user name, no
    spaces), at most :data:`MAX_URL` characters."""
    url = value.strip()
    try:
        parts = urlsplit(url)
        # A name in another script is checked as the browser sends it (IDNA, "xn--").
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port_ok = parts.port is None or parts.port > 0
    except (ValueError, UnicodeError):
        parts, host, port_ok = None, "", False
    if (
        parts is None
        or parts.scheme != "https"
        or not url.lower().startswith("https://")
        or not _HOST_RE.fullmatch(host)
        or parts.username is not None
        or not port_ok
        or len(url) > MAX_URL
        or not _printable(url)
        or any(c in _NOT_IN_URLS for c in url)
    ):
        raise error(
            "the address must be an https:// address such as https://example.org/", field=field
        )
    return url


def clean_email(
    value: str, *, field: str = "email", error: type[SettingError] = SettingError
) -> str:
    """An e-mail address such as ``help@example.org`` (at most :data:`MAX_EMAIL` characters)."""
    email = value.strip()
    if len(email) > MAX_EMAIL or not _EMAIL_RE.fullmatch(email):
        raise error("the e-mail address must look like help@example.org", field=field)
    return email


def clean_phone(
    value: str, *, field: str = "phone", error: type[SettingError] = SettingError
) -> str:
    """A phone number as written (digits, spaces and ``+()./-``), at most :data:`MAX_PHONE`."""
    phone = " ".join(value.split())
    if not _PHONE_RE.fullmatch(phone) or sum(c.isdigit() for c in phone) < 2:
        raise error("the phone number may hold only digits, spaces and +()./-", field=field)
    return phone
