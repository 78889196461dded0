"""What every command shares: settings from options, the database options, one-line failure."""

from typing import Any, NoReturn

import typer

from apgraph.settings import Settings

DatabaseUrl = typer.Option(None, "--database-url", help="Default: SQLite in the data directory.")
DataDir = typer.Option(None, "--data-dir", help="Where embedded mode keeps its files.")
GatewayConfigPath = typer.Option(None, "--gateway-config", help="Default: gateway.yaml")


def settings_from(**overrides: Any) -> Settings:
    """Command-line options win over APGRAPH_* variables; unset options leave them be."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def fail(message: str) -> NoReturn:
    typer.secho(f"apgraph: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)
