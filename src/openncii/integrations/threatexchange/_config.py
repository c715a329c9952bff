"""The collaboration settings and credentials of the OpenNCII exchange.

No ``from __future__ import annotations`` in this module: python-threatexchange builds the
options of ``threatexchange config collab edit openncii`` from these dataclasses' field types,
and HMA its forms, and both need real types there, not strings.
"""

import dataclasses
import typing

from threatexchange.exchanges import auth
from threatexchange.exchanges.collab_config import CollaborationConfigWithDefaults

__all__ = ["API_NAME", "OpenNCIICollabConfig", "OpenNCIICredentials"]

#: The exchange's name in python-threatexchange and HMA (collab configs refer to it).
API_NAME: typing.Final = "openncii"


@dataclasses.dataclass
class OpenNCIICollabConfig(CollaborationConfigWithDefaults):
    """One OpenNCII server to fetch from: its address (the partner key is a credential)."""

    api: str = dataclasses.field(init=False, default=API_NAME)
    server: str = dataclasses.field(
        default="",
        metadata={
            "help": "The OpenNCII server, e.g. https://ncii.example.org (its partner API is "
            "under /v1).",
            "metavar": "URL",
        },
    )


@dataclasses.dataclass
class OpenNCIICredentials(auth.CredentialHelper):
    """The partner key the helpline gave you (``openncii partners add``): from the environment
    variable ``TX_OPENNCII_KEY`` or the file ``~/.tx_openncii_key`` (``chmod 400`` it)."""

    ENV_VARIABLE: typing.ClassVar[str] = "TX_OPENNCII_KEY"
    FILE_NAME: typing.ClassVar[str] = "~/.tx_openncii_key"

    key: str

    @classmethod
    def _from_str(cls, s: str) -> "OpenNCIICredentials":
        return cls(key=s.strip())

    def _are_valid(self) -> bool:
        return bool(self.key) and not any(c.isspace() for c in self.key)

    def __repr__(self) -> str:  # never the key
        return "OpenNCIICredentials(key=***)"
