"""What every command shares: settings from options, the database options, one-line failure,
the check that a port is free."""

import errno
import socket
from typing import Any, NoReturn

import typer

from apgraph.settings import Settings

DatabaseUrl = typer.Option(None, "--database-url", help="Default: SQLite in the data directory.")
DataDir = typer.Option(
    None,
    "--data-dir",
    help="Where embedded mode keeps its files (keys, SQLite). Default: $APGRAPH_DATA_DIR, "
    "else ~/.local/share/apgraph, the same for the server and every command.",
)
GatewayConfigPath = typer.Option(
    None,
    "--gateway-config",
    help="Default: ./gateway.yaml if there is one, else the one shipped in the package.",
)


def settings_from(*, announce: bool = True, **overrides: Any) -> Settings:
    """Command-line options win over APGRAPH_* variables; unset options leave them be.

    A command that takes --data-dir and was not given it says on stderr which data dir it
    used: a token signed with another directory's keys is useless, and this is where one
    would notice.
    """
    settings = Settings(**{key: value for key, value in overrides.items() if value is not None})
    if announce and "data_dir" in overrides and overrides["data_dir"] is None:
        typer.echo(f"apgraph: data dir {settings.data_dir.resolve()}", err=True)
    return settings


def fail(message: str) -> NoReturn:
    typer.secho(f"apgraph: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port, checked before anything is printed
    or migrated (uvicorn would say so only after the banner)."""
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        return f"cannot listen on {host}: {error.strerror}"
    with socket.socket(info[0], socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(info[4])
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is already in use (another apgraph serve?); "
                    "stop it or pick another with --port"
                )
            return f"cannot listen on {host}:{port}: {error.strerror}"
    return None
