"""The password rule of staff accounts: at least 12 characters, not a common password.

``common-passwords.txt.gz`` is the list Django ships (``django/contrib/auth/``, BSD licence):
20,000 common passwords, lowercased, made by Royce Williams from breach corpora
(https://gist.github.com/roycewilliams/226886fd01572964e1431ac8afc999ce). A password is refused
when its lowercase form is on the list, or when it is the account's e-mail address or its name
part.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib.resources import files
from typing import Final

from openncii.errors import WeakPasswordError

__all__ = ["MAX_PASSWORD_CHARS", "MIN_PASSWORD_CHARS", "check_password", "common_passwords"]

MIN_PASSWORD_CHARS: Final = 12
#: Longer passwords are refused (argon2 would hash anything, but a megabyte is not a password).
MAX_PASSWORD_CHARS: Final = 256


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lowercase)."""
    data = files("openncii.staff").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").lower().split())


def check_password(password: str, email: str) -> None:
    """Raise :class:`WeakPasswordError` unless ``password`` may protect a staff account."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPasswordError(f"The password needs at least {MIN_PASSWORD_CHARS} characters.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise WeakPasswordError(f"The password may have at most {MAX_PASSWORD_CHARS} characters.")
    lowered = password.lower()
    if lowered in common_passwords():
        raise WeakPasswordError("This password is on the list of common passwords: choose another.")
    email = email.lower()
    if lowered in (email, email.partition("@")[0]):
        raise WeakPasswordError("The password must not be the e-mail address.")
