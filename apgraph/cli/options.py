"""What every command shares: settings from options, the database options, one-line failure."""

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
