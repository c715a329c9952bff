"""The one settings class of the service, read from ``OPENNCII_*`` environment variables.

Nothing here is read at import time: ``Settings()`` is built by the CLI (``openncii serve``) or by
whoever calls :func:`openncii.api.create_app`, and passed down explicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from platformdirs import user_data_path
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "ARGON2_OWASP_MIN_MEMORY_KIB",
    "ARGON2_OWASP_MIN_TIME_COST",
    "ENV_PREFIX",
    "Settings",
    "default_database_url",
]

#: Prefix of every environment variable that configures OpenNCII.
ENV_PREFIX: Final = "OPENNCII_"
#: The OWASP Password Storage Cheat Sheet's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
ARGON2_OWASP_MIN_MEMORY_KIB: Final = 19 * 1024
ARGON2_OWASP_MIN_TIME_COST: Final = 2
_APP_NAME: Final = "openncii"
_DB_FILE: Final = "openncii.sqlite3"


def default_database_url() -> str:
    """A SQLite file in the user data directory (the directory is created when first used)."""
    path = user_data_path(_APP_NAME, appauthor=False) / _DB_FILE
    return f"sqlite:///{path}"


class Settings(BaseSettings):
    """Configuration of the case service. Every field maps to ``OPENNCII_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # Storage -------------------------------------------------------------------------------
    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db.",
    )
    database_pool_size: int = Field(default=10, ge=1, description="PostgreSQL pool size.")
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="SQLite only: FULL syncs every commit to disk before the answer (survives "
        "power loss); NORMAL in WAL mode survives process crashes only.",
    )

    # HTTP ----------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, description="Largest request body.")
    log_client_ips: bool = Field(
        default=False, description="Write client IP addresses to the access log (off by default)."
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated proxy addresses whose X-Forwarded-For is believed "
        "(for per-client rate limits); empty: use the socket peer.",
    )

    # Cases ---------------------------------------------------------------------------------
    max_hashes_per_case: int = Field(default=200, ge=1)
    denylist_extra_path: Path | None = Field(
        default=None,
        description="Extra deny-list file (one PDQ hex per line, # comments) on top of the "
        "shipped one.",
    )

    # PIN hashing (argon2id) ----------------------------------------------------------------
    argon2_time_cost: int = Field(default=ARGON2_OWASP_MIN_TIME_COST, ge=1)
    argon2_memory_kib: int = Field(default=ARGON2_OWASP_MIN_MEMORY_KIB, ge=8)
    argon2_parallelism: int = Field(default=1, ge=1)

    # Abuse controls ------------------------------------------------------------------------
    lockout_failures: int = Field(default=5, ge=1, description="Failed PINs before a lockout.")
    lockout_base_seconds: int = Field(default=15 * 60, ge=1, description="First lockout.")
    lockout_max_seconds: int = Field(default=7 * 24 * 3600, ge=1, description="Longest lockout.")
    rate_window_seconds: int = Field(default=60, ge=1)
    rate_limit_create: int = Field(
        default=10, ge=1, description="Case creations per client/window."
    )
    rate_limit_status: int = Field(
        default=30, ge=1, description="Status/withdraw per client/window."
    )

    # Partner feed (openncii.feed) ------------------------------------------------------------
    feed_retention_days: int = Field(
        default=30,
        ge=1,
        description="How long withdrawn hashes stay in the partner feed as Withdrawn before "
        "their values are purged (the StopNCII client's own staleness limit is 30 days).",
    )
    feed_page_token_ttl_seconds: int = Field(
        default=3600, ge=10, description="How long a nextPageToken stays valid."
    )
    feed_purge_interval_seconds: int = Field(
        default=3600,
        ge=0,
        description="How often (at most) the server purges expired withdrawn hashes, from "
        "a FetchHashes request after answering it (0: never).",
    )
