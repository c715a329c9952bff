"""``openncii matcher serve``: the matcher service over the partner's local store."""

from __future__ import annotations

from typing import Annotated

import typer

from openncii.cli.common import (
    ExitCode,
    LogLevelOption,
    StoreOption,
    ensure_port_free,
    fail,
    load_settings,
    log_config,
    open_partner_store,
    partner_settings,
)

__all__ = ["app"]

app = typer.Typer(
    name="matcher",
    help="Match uploads against the partner's local copy of the bank (a FastAPI service).",
    no_args_is_help=True,
)


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@app.command("serve")
def serve(
    store: StoreOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8100,
    refresh_seconds: Annotated[
        float | None,
        typer.Option(
            min=0.01,
            help="How often the bank is refreshed from the store "
            "(OPENNCII_MATCHER_REFRESH_SECONDS, 5).",
        ),
    ] = None,
    threshold: Annotated[
        int | None,
        typer.Option(
            min=0, max=64, help="Default PDQ distance threshold (OPENNCII_MATCHER_THRESHOLD, 31)."
        ),
    ] = None,
    create_store: Annotated[
        bool,
        typer.Option(
            "--create-store",
            help="Start with an empty store when none exists at the path (otherwise a missing "
            "store is an error: a mistyped path would serve an empty bank).",
        ),
    ] = False,
    log_level: LogLevelOption = "info",
) -> None:
    """Serve POST /match, GET /metrics and GET /healthz over the local store.

    Keep the store current with `openncii partner sync` (a cron job, say): the matcher picks up new and withdrawn hashes while it serves.

    One process: the index lives in its memory. Uploads are hashed in a temporary file deleted at once; hashes are never logged.

    Answers hold bank hashes: beyond 127.0.0.1, set OPENNCII_MATCHER_TOKEN (at least 32 characters) and have clients send Authorization: Bearer <token> (the command refuses a non-loopback --host without it).

    GET /healthz answers 503 while the store's last completed sync is older than OPENNCII_MATCHER_MAX_SYNC_AGE_SECONDS (an hour) or there was none.
    """  # noqa: E501 - one line per paragraph: the help text is wrapped by the terminal
    import uvicorn

    from openncii.partner.matcher import StoreBank
    from openncii.partner.matcher_app import create_matcher_app
    from openncii.settings import MatcherSettings

    settings = load_settings(
        "matcher serve", MatcherSettings, refresh_seconds=refresh_seconds, threshold=threshold
    )
    if settings.token is None and not _loopback(host):
        fail(
            "matcher serve",
            f"listening on {host} exposes bank hashes to the network; set "
            "OPENNCII_MATCHER_TOKEN (clients then send Authorization: Bearer <token>) or listen "
            "on 127.0.0.1.",
            ExitCode.USAGE,
        )
    ensure_port_free("matcher serve", host, port, f"--port {port + 1 if port < 65535 else 8100}")
    partner = partner_settings("matcher serve", store=store)
    if not create_store and not partner.store.exists():
        fail(
            "matcher serve",
            f"no partner store at {partner.store}: check the path, fill it with `openncii "
            "partner sync --store PATH`, or add --create-store to start with an empty one.",
            ExitCode.STORE,
        )
    opened = open_partner_store("matcher serve", partner)
    web = create_matcher_app(
        StoreBank(opened),
        settings,
        on_close=opened.close,
        last_sync=lambda: opened.sync_state().checkpoint_at,
    )
    uvicorn.run(
        web,
        host=host,
        port=port,
        log_config=log_config(log_level.upper()),
        access_log=False,
        server_header=False,
    )
