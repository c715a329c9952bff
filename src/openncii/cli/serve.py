"""``openncii serve``: migrate the database and serve the HTTP API and the web app (uvicorn)."""

from __future__ import annotations

import os
from typing import Annotated, Any, Final

import typer

from openncii.cli._app import app

__all__ = ["log_config", "serve"]

_LOG_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Import string of the app factory that worker processes call (settings from OPENNCII_*).
FACTORY: Final = "openncii.api.app:create_app_from_environment"


def log_config(level: str = "INFO") -> dict[str, Any]:
    """Logging for the server: our own access log (no client IPs unless enabled), uvicorn's off."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": _LOG_FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": level, "propagate": False},
            # uvicorn's access log prints the client's address and the query string: never used.
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "openncii": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
    }


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (OPENNCII_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (OPENNCII_PORT, 8000).")] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="SQLAlchemy URL (OPENNCII_DATABASE_URL); default: SQLite in the user data dir.",
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="Log level of the server.")] = "info",
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (they share the database's counters).")
    ] = 1,
) -> None:
    """Apply the database migrations, then serve the API and the web app."""
    import uvicorn

    from openncii.api import create_app
    from openncii.db import make_engine, migrate
    from openncii.errors import ConfigurationError
    from openncii.settings import ENV_PREFIX, Settings

    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if database_url is not None:
        overrides["database_url"] = database_url
    settings = Settings(**overrides)

    try:
        engine = make_engine(settings.database_url)
        try:
            migrate(engine)
        finally:
            engine.dispose()
        application = create_app(settings)
    except ConfigurationError as exc:
        typer.echo(f"openncii serve: {exc}", err=True)
        raise typer.Exit(2) from None
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
        os.environ[ENV_PREFIX + name.upper()] = str(value)
    uvicorn.run(FACTORY, factory=True, workers=workers, **options)
