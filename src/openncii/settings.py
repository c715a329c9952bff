"""Every setting of OpenNCII, read from ``OPENNCII_*`` environment variables: one home.

One pydantic-settings pattern for all: each class below derives from :class:`OpenNCIISettings`
(the ``OPENNCII_`` prefix, unknown variables ignored, immutable) and is built where it is used
(``create_app(settings)``, ``create_matcher_app(source, settings)``, a CLI command), never at
import time, then passed down explicitly:

- :class:`Settings`: the case service (``openncii serve``, ``openncii partners``).
- :class:`MatcherSettings`: ``openncii matcher serve`` (``OPENNCII_MATCHER_*``).
- :class:`PartnerSettings`: the partner-side commands (``OPENNCII_PARTNER_*``).
- :class:`CaseClientSettings`: ``openncii case`` (the server it talks to).

To add a setting, add a field with a ``description`` to its class (a new class: add it to
:data:`SETTINGS_CLASSES`), then regenerate the table of every variable in ``docs/settings.md``
with ``python -m openncii.settings > docs/settings.md`` (a test checks that it is current).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar, Final, Literal

from platformdirs import user_data_path
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "ARGON2_OWASP_MIN_MEMORY_KIB",
    "ARGON2_OWASP_MIN_TIME_COST",
    "ENV_PREFIX",
    "MIN_MATCHER_TOKEN_CHARS",
    "SETTINGS_CLASSES",
    "CaseClientSettings",
    "MatcherSettings",
    "OpenNCIISettings",
    "PartnerSettings",
    "Settings",
    "default_database_url",
    "default_partner_store",
    "settings_markdown",
]

#: Prefix of every environment variable that configures OpenNCII.
ENV_PREFIX: Final = "OPENNCII_"
#: The OWASP Password Storage Cheat Sheet's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
ARGON2_OWASP_MIN_MEMORY_KIB: Final = 19 * 1024
ARGON2_OWASP_MIN_TIME_COST: Final = 2
_APP_NAME: Final = "openncii"
_DB_FILE: Final = "openncii.sqlite3"
_PARTNER_STORE_FILE: Final = "partner.sqlite3"
#: The shortest matcher token accepted (a guessable token would guard nothing).
MIN_MATCHER_TOKEN_CHARS: Final = 32


def default_database_url() -> str:
    """A SQLite file in the user data directory (the directory is created when first used)."""
    path = user_data_path(_APP_NAME, appauthor=False) / _DB_FILE
    return f"sqlite:///{path}"


def default_partner_store() -> Path:
    """The partner's local store: ``partner.sqlite3`` in the user data directory."""
    return user_data_path(_APP_NAME, appauthor=False) / _PARTNER_STORE_FILE


def _match_threshold() -> int:
    # The PDQ module needs numpy: imported only when a matcher's settings are built.
    from openncii.signals.pdq import MATCH_THRESHOLD

    return MATCH_THRESHOLD


def _shown(default: str) -> dict[str, Any]:
    """The default as the documentation states it (for a default computed on this machine)."""
    return {"shown_default": default}


class OpenNCIISettings(BaseSettings):
    """What every settings class shares: ``OPENNCII_*`` variables, unknown ones ignored,
    immutable once built; an empty variable counts as unset. ``read_by`` names the ``openncii``
    commands that read the class."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", frozen=True
    )

    read_by: ClassVar[str] = ""

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable of ``field``, e.g. ``OPENNCII_DATABASE_URL``."""
        if field not in cls.model_fields:
            raise KeyError(field)
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


class Settings(OpenNCIISettings):
    """Configuration of the case service. Every field maps to ``OPENNCII_<FIELD>``."""

    read_by: ClassVar[str] = "`serve`, `partners`"

    # Storage -------------------------------------------------------------------------------
    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL: `sqlite:///path` or `postgresql+psycopg://user@host/db` "
        "(`--database-url`).",
        json_schema_extra=_shown("SQLite file in the user data dir"),
    )
    database_pool_size: int = Field(default=10, ge=1, description="PostgreSQL pool size.")
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="SQLite only: FULL syncs every commit to disk before the answer (survives "
        "power loss); NORMAL in WAL mode survives process crashes only.",
    )

    # HTTP ----------------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Where `openncii serve` listens (`--host`).")
    port: int = Field(
        default=8000, ge=0, le=65535, description="TCP port of `openncii serve` (`--port`)."
    )
    max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Largest request body (256 KiB)."
    )
    log_client_ips: bool = Field(
        default=False,
        description="Write client IP addresses to the logs (they stay out unless this is set).",
    )
    served_over_https: bool = Field(
        default=False,
        description="The site is reached over HTTPS (usually through a reverse proxy that ends "
        "TLS): send Strict-Transport-Security on every answer (see docs/security.md).",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated proxy addresses whose X-Forwarded-For is believed "
        "(for per-client rate limits); empty: use the socket peer.",
    )

    # Cases ---------------------------------------------------------------------------------
    max_files_per_case: int = Field(
        default=50,
        ge=1,
        description="Photos and videos one case may hold (a photo brings up to 10 hashes, a "
        "video an MD5 and a vPDQ signature).",
    )
    max_hashes_per_case: int = Field(
        default=1000,
        ge=1,
        description="Hashes one case may hold, all photos' and videos' together.",
    )
    denylist_extra_path: Path | None = Field(
        default=None,
        description="The helpline's own file of PDQ hashes to refuse (one hex a line, `#` "
        "comments: trivial or widely shared benign images), added to the shipped list.",
    )

    # PIN hashing (argon2id) ----------------------------------------------------------------
    argon2_time_cost: int = Field(
        default=ARGON2_OWASP_MIN_TIME_COST,
        ge=1,
        description="argon2id passes for PIN hashes (the OWASP minimum is 2).",
    )
    argon2_memory_kib: int = Field(
        default=ARGON2_OWASP_MIN_MEMORY_KIB,
        ge=8,
        description="argon2id memory in KiB for PIN hashes (the OWASP minimum is 19 MiB).",
    )
    argon2_parallelism: int = Field(default=1, ge=1, description="argon2id lanes.")
    pin_hash_workers: int | None = Field(
        default=None,
        ge=1,
        description="argon2id computations at once, per server process (its own pool: health "
        "checks and pages never wait behind PIN work).",
        json_schema_extra=_shown("one per core"),
    )
    pin_hash_queue: int | None = Field(
        default=None,
        ge=0,
        description="Requests that may wait for PIN hashing, per server process; more get 503 "
        "with Retry-After at once.",
        json_schema_extra=_shown("4 per PIN-hash worker"),
    )

    # Abuse controls ------------------------------------------------------------------------
    pin_tries: int = Field(
        default=5,
        ge=1,
        description="Wrong PINs one client may try for one case number per pause window.",
    )
    pin_pause_seconds: int = Field(
        default=60,
        ge=1,
        le=24 * 3600,
        description="The pause window of `pin_tries`: a client that used its tries waits at most "
        "this long, and nobody else can lengthen the wait.",
    )
    legacy_pin_tries: int = Field(
        default=5,
        ge=1,
        description="Cases with an older 8-digit PIN: wrong 8-digit PINs per case number and "
        "window, all clients together (keeps guessing beyond 100 years; docs/security.md).",
    )
    legacy_pin_window_seconds: int = Field(
        default=600,
        ge=1,
        le=24 * 3600,
        description="The window of `legacy_pin_tries`.",
    )
    rate_window_seconds: int = Field(
        default=60, ge=1, le=24 * 3600, description="The window of the per-client rate limits."
    )
    rate_limit_create: int = Field(
        default=10, ge=1, description="Case creations per client and window."
    )
    create_proof_bits: int = Field(
        default=18,
        ge=8,
        le=28,
        description="A creation over `rate_limit_create` gets past it with a proof of work of "
        "this many bits (2**bits MD5 on the person's device: about half a second in a "
        "desktop browser at 18), so nobody behind a busy shared address is refused.",
    )
    rate_limit_status: int = Field(
        default=30, ge=1, description="Status checks or withdrawals per client and window."
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

    # Helpline console (/admin) -------------------------------------------------------------
    public_url: str = Field(
        default="",
        description="The address staff reach this server at (e.g. `https://help.example.org`), "
        "for the set-up links `openncii staff add` prints; empty: `http://HOST:PORT`.",
    )
    console_setup_hours: int = Field(
        default=24, ge=1, le=24 * 14, description="How long a staff set-up link stays valid."
    )
    console_idle_minutes: int = Field(
        default=30, ge=1, description="A console session ends after this long without a request."
    )
    console_session_hours: int = Field(
        default=12, ge=1, description="A console session ends this long after sign-in at most."
    )
    console_signin_failures: int = Field(
        default=5,
        ge=1,
        description="Failed console sign-ins per e-mail (known or not) in a window of "
        "`OPENNCII_CONSOLE_SIGNIN_WINDOW_MINUTES`; then sign-in waits for the window to end.",
    )
    console_client_failures: int = Field(
        default=20,
        ge=1,
        description="Failed console sign-ins per client in a window; then that client waits.",
    )
    console_signin_window_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="The window of the console's sign-in limits."
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, `GET /metrics` needs `Authorization: Bearer <token>`; unset, it "
        "answers loopback clients only.",
    )
    partner_key_grace_days: int = Field(
        default=7,
        ge=0,
        le=90,
        description="After a partner key rotation, how many days the old key keeps working "
        "unless the admin picks another period.",
    )

    # Hash review (the console's queue, openncii.review.queue) --------------------------------
    review_not_blocked_partners: int = Field(
        default=2,
        ge=1,
        le=1000,
        description="Review queue, reason `not_blocked`: a hash is listed when this many "
        "partners or more reported NotBlocked for it.",
    )
    review_match_factor: float = Field(
        default=3.0,
        ge=1.0,
        le=1000.0,
        description="Review queue, reason `frequent_match`: a hash is listed when the partners "
        "reporting PendingReview or Blocked for it are this many times the median over hashes "
        "with such a report (and at least `OPENNCII_REVIEW_MATCH_MIN_PARTNERS`).",
    )
    review_match_min_partners: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="Review queue, reason `frequent_match`: the fewest partners reporting a "
        "match for a hash to be listed, whatever the median.",
    )
    review_burst_cases: int = Field(
        default=10,
        ge=2,
        le=10_000,
        description="Review queue, reason `network_burst`: this many cases or more opened from "
        "one client network within `OPENNCII_REVIEW_BURST_MINUTES` are a burst (their hashes "
        "are listed). Flagged as each case is stored; after a change, the first queue read "
        "flags the kept cases again.",
    )
    review_burst_minutes: int = Field(
        default=60,
        ge=1,
        le=24 * 60,
        description="Review queue, reason `network_burst`: the window of "
        "`OPENNCII_REVIEW_BURST_CASES`, in minutes (at most a day).",
    )


class MatcherSettings(OpenNCIISettings):
    """Settings of ``openncii matcher serve`` (``OPENNCII_MATCHER_<FIELD>``)."""

    model_config = SettingsConfigDict(env_prefix=f"{ENV_PREFIX}MATCHER_", env_ignore_empty=False)
    read_by: ClassVar[str] = "`matcher serve`"

    refresh_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often the bank is refreshed from the store (`--refresh-seconds`).",
    )
    threshold: int = Field(
        default_factory=_match_threshold,
        ge=0,
        le=64,
        description="Default PDQ distance threshold (`--threshold`).",
    )
    max_upload_bytes: int = Field(
        default=2 * 1024**3, ge=1024, description="Largest uploaded file (2 GiB)."
    )
    max_json_bytes: int = Field(
        default=8 * 1024**2, ge=1024, description="Largest JSON request body (8 MiB)."
    )
    upload_dir: Path | None = Field(
        default=None, description="Where uploads are spooled while hashed (none: system temp)."
    )
    max_concurrent_hashes: int | None = Field(
        default=None,
        ge=1,
        description="Uploads hashed at once (none: one per core, at most half the memory at "
        "320 MB each); others wait up to `hash_wait_seconds`, then get 503 with Retry-After.",
    )
    hash_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long an upload waits for a free hashing slot before 503.",
    )
    token: SecretStr | None = Field(
        default=None,
        description="When set, POST /match needs `Authorization: Bearer <token>`: its answers "
        "hold bank hashes and case references, which only the platform's own services may see "
        f"(required beyond the loopback address). At least {MIN_MATCHER_TOKEN_CHARS} characters; "
        "set but empty is refused, not taken for no token.",
    )
    max_sync_age_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="`/healthz` answers 503 when the store's last completed `partner sync` is "
        "older than this (or there was none): the bank would miss new and withdrawn hashes.",
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_token_is_not_unset(cls, data: Any) -> Any:
        # Other variables: empty counts as unset (dropped here, as the other classes ignore
        # them). The token is read with empty values kept (see model_config), so that
        # OPENNCII_MATCHER_TOKEN="" is refused instead of turning authentication off.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k == "token" or v != ""}
        return data

    @field_validator("token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < MIN_MATCHER_TOKEN_CHARS:
            raise ValueError(
                f"the token must be at least {MIN_MATCHER_TOKEN_CHARS} characters (it has "
                f'{len(token.get_secret_value())}); make one with: python3 -c "import secrets; '
                'print(secrets.token_urlsafe(32))"'
            )
        return token


class PartnerSettings(OpenNCIISettings):
    """Settings of the partner-side commands (``OPENNCII_PARTNER_<FIELD>``)."""

    model_config = SettingsConfigDict(env_prefix=f"{ENV_PREFIX}PARTNER_")
    read_by: ClassVar[str] = "`partner`, `matcher serve`"

    key: SecretStr | None = Field(
        default=None,
        description="The partner API key (otherwise asked at a hidden prompt; never an argument).",
    )
    server: str | None = Field(
        default=None,
        description="The OpenNCII server, e.g. https://ncii.example.org (`--server`; "
        "`feedback` and `scan` default to the one the store was synced with).",
    )
    store: Path = Field(
        default_factory=default_partner_store,
        description="The local store, a SQLite file (`--store`).",
        json_schema_extra=_shown("partner.sqlite3 in the user data dir"),
    )
    bank_cache_dir: Path | None = Field(
        default=None,
        description="Where `partner scan` and Spark workers keep the bank's index, saved once "
        "per bank snapshot and mapped by every worker process of the machine (a local disk; "
        "default: a temporary folder per scan, deleted after it).",
    )


class CaseClientSettings(OpenNCIISettings):
    """Settings of ``openncii case`` (``OPENNCII_<FIELD>``)."""

    read_by: ClassVar[str] = "`case`"

    server_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The OpenNCII server a person opens, checks or withdraws a case on "
        "(`--server`).",
    )


#: Every settings class, in the order of the documentation's table.
SETTINGS_CLASSES: Final[tuple[type[OpenNCIISettings], ...]] = (
    Settings,
    MatcherSettings,
    PartnerSettings,
    CaseClientSettings,
)


def _default_text(cls: type[OpenNCIISettings], name: str) -> str:
    field = cls.model_fields[name]
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "shown_default" in extra:
        return str(extra["shown_default"])
    value = field.get_default(call_default_factory=True)
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return f"`{value}`"


def settings_markdown() -> str:
    """``docs/settings.md``: the table of every environment variable, made from the classes."""
    lines = [
        "# Settings",
        "",
        "<!-- Generated by `python -m openncii.settings > docs/settings.md`: do not edit. -->",
        "",
        "Every setting is an environment variable with the prefix `OPENNCII_`, read by one of "
        "the settings classes of `openncii.settings` when a command starts (never at import "
        "time). A command-line option, where there is one, wins over the variable.",
        "",
        "| variable | default | read by `openncii` | meaning |",
        "|---|---|---|---|",
    ]
    for cls in SETTINGS_CLASSES:
        for name, field in cls.model_fields.items():
            meaning = (field.description or "").replace("|", "\\|")
            lines.append(
                f"| `{cls.env_name(name)}` | {_default_text(cls, name)} | {cls.read_by} "
                f"| {meaning} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(settings_markdown())
