"""``openncii serve``: migrate the database and serve the HTTP API and the web app (uvicorn)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from openncii.cli.common import (
    DatabaseUrlOption,
    ExitCode,
    LogLevelOption,
    ensure_port_free,
    fail,
    load_settings,
    log_config,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["FACTORY", "app", "serve"]

#: Import string of the app factory that worker processes call (settings from OPENNCII_*).
FACTORY: Final = "openncii.api.app:create_app_from_environment"

app = typer.Typer()


def _warn_without_partners(engine: Engine) -> None:
    """Tell the operator, at start, when no company takes part (nobody looks for copies)."""
    from openncii.db import make_session_factory
    from openncii.partners import NO_PARTNERS_WARNING, public_partner_names

    with make_session_factory(engine)() as session:
        if not public_partner_names(session):
            typer.echo(f"openncii serve: warning: {NO_PARTNERS_WARNING}", err=True)


@app.command("serve")
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (OPENNCII_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (OPENNCII_PORT, 8000).")] = None,
    database_url: DatabaseUrlOption = None,
    log_level: LogLevelOption = "info",
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (they share the database's counters).")
    ] = 1,
) -> None:
    """Apply the database migrations, then serve the API and the web app."""
    import uvicorn

    from openncii.api import create_app
    from openncii.db import make_engine, migrate
    from openncii.errors import ConfigurationError
    from openncii.settings import Settings

    overrides = {"host": host, "port": port, "database_url": database_url}
    settings = load_settings("serve", Settings, **overrides)
    other = settings.port + 1 if settings.port < 65535 else 8000
    ensure_port_free(
        "serve",
        settings.host,
        settings.port,
        f"--port {other}, or {Settings.env_name('port')}={other} "
        f"(`{Settings.env_name('port')}={other} make run`)",
    )

    try:
        engine = make_engine(settings.database_url)
        try:
            migrate(engine)
            _warn_without_partners(engine)
        finally:
            engine.dispose()
        application = create_app(settings)
    except ConfigurationError as exc:
        fail("serve", str(exc), ExitCode.USAGE)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": False,
        "log_config": log_config(log_level.upper()),
        "server_header": False,
        "proxy_headers": False,
    }
    if workers == 1:
        uvicorn.run(application, **options)
        return
    # Several processes: each builds its app from the environment, so pass the overrides on.
    application.state.runtime.close()
    for name, value in overrides.items():
        if value is not None:
            os.environ[Settings.env_name(name)] = str(value)
    uvicorn.run(FACTORY, factory=True, workers=workers, **options)
