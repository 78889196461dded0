"""`apgraph contracts export|check`: the schema's SDL, frozen in contracts/ for review.

Until API products have schemas of their own (a later issue), the one schema is the
contract every product serves; CI fails when the code and the frozen SDL disagree, so a
schema change is always a reviewed change to `contracts/apgraph.graphql`.
"""

from pathlib import Path

import typer

from apgraph.cli.options import GatewayConfigPath, fail, settings_from
from apgraph.gateway.startup import StartupError, load_config

contracts_app = typer.Typer(help="The API contract: the schema's SDL, frozen for review.")

DEFAULT_CONTRACT = Path("contracts/apgraph.graphql")
ContractPath = typer.Option(DEFAULT_CONTRACT, "--path", help="Where the frozen SDL lives.")


def register(app: typer.Typer) -> None:
    app.add_typer(contracts_app, name="contracts")


def current_sdl(gateway_config: Path | None) -> str:
    from apgraph.gateway.schema import build_schema

    settings = settings_from(gateway_config=gateway_config)
    try:
        config = load_config(settings)
    except StartupError as error:
        fail(str(error))
    schema = build_schema(config, show_error_detail=False, expose_sql_statements=False)
    return schema.as_str() + "\n"


@contracts_app.command("export")
def export(path: Path = ContractPath, gateway_config: Path = GatewayConfigPath) -> None:
    """Write the schema's SDL to the contract file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(current_sdl(gateway_config), encoding="utf-8")
    typer.echo(f"apgraph: wrote {path}")


@contracts_app.command("check")
def check(path: Path = ContractPath, gateway_config: Path = GatewayConfigPath) -> None:
    """Exit 1 when the code's schema differs from the frozen SDL, with a unified diff."""
    import difflib

    frozen = path.read_text(encoding="utf-8") if path.exists() else ""
    live = current_sdl(gateway_config)
    if frozen == live:
        typer.echo(f"apgraph: {path} matches the schema")
        return
    diff = difflib.unified_diff(
        frozen.splitlines(keepends=True), live.splitlines(keepends=True), str(path), "schema"
    )
    typer.echo("".join(diff), err=True)
    fail(f"{path} differs from the schema: review, then run `apgraph contracts export`")
