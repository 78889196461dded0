"""`apgraph contracts export|check|diff`: each product version's SDL, frozen for review.

contracts/<product>/<version>.graphql is what a product version promises its clients;
contracts/apgraph.graphql is the operators' full internal schema. `check` (run by the test
suite, so by CI) fails when the code serves anything else; `export` refuses to freeze a
breaking change to a released (active or deprecated) version: that needs a new version.
"""

from pathlib import Path

import typer

from apgraph.cli.options import GatewayConfigPath, fail, settings_from
from apgraph.gateway.products.contracts import (
    FULL_SCHEMA,
    Changes,
    changes_between,
    contract_path,
)
from apgraph.gateway.startup import StartupError, load_config
from apgraph.policies.products import Lifecycle

contracts_app = typer.Typer(help="API contracts: each product version's SDL, frozen for review.")

DEFAULT_DIR = Path("contracts")
ContractsDir = typer.Option(DEFAULT_DIR, "--dir", help="Where the frozen SDL files live.")
RELEASED = (Lifecycle.ACTIVE, Lifecycle.DEPRECATED)


def register(app: typer.Typer) -> None:
    app.add_typer(contracts_app, name="contracts")


def live_contracts(
    gateway_config: Path | None, root: Path
) -> list[tuple[Path, str, Lifecycle | None]]:
    """(file, the SDL the code serves, the version's lifecycle) for the full schema and every
    product version that is still served (retired versions keep their frozen file)."""
    from apgraph.gateway.products.routes import ProductSchemas
    from apgraph.gateway.schema import build_schema

    settings = settings_from(gateway_config=gateway_config)
    try:
        config = load_config(settings)
    except StartupError as error:
        fail(str(error))
    full = build_schema(config, show_error_detail=False, expose_sql_statements=False)
    found: list[tuple[Path, str, Lifecycle | None]] = [
        (root / FULL_SCHEMA, full.as_str() + "\n", None)
    ]
    for (product, version), schema in ProductSchemas.build(settings, config).by_version.items():
        status = config.products[product].versions[version].status
        if status is not Lifecycle.RETIRED:
            found.append((contract_path(root, product, version), schema.as_str() + "\n", status))
    return found


def _frozen(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _changes(frozen: str, live: str) -> Changes:
    if not frozen:
        return Changes(safe=["new contract"])
    return changes_between(frozen, live)


@contracts_app.command("export")
def export(
    root: Path = ContractsDir,
    gateway_config: Path = GatewayConfigPath,
    allow_breaking: bool = typer.Option(
        False, "--allow-breaking", help="Freeze breaking changes to released versions too."
    ),
) -> None:
    """Write each product version's SDL (and the full schema's) to its contract file."""
    contracts = live_contracts(gateway_config, root)
    refused = []
    for path, live, status in contracts:
        frozen = _frozen(path)
        if frozen and status in RELEASED and not allow_breaking:
            breaking = changes_between(frozen, live).breaking
            if breaking:
                refused.append((path, breaking))
    if refused:
        for path, breaking in refused:
            typer.echo(f"{path}: breaking changes to a released version:", err=True)
            typer.echo("".join(f"  - {item}\n" for item in breaking), err=True, nl=False)
        fail("nothing written: release the change as a new version (or --allow-breaking)")
    for path, live, _ in contracts:
        if _frozen(path) != live:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(live, encoding="utf-8")
            typer.echo(f"apgraph: wrote {path}")
    typer.echo(f"apgraph: {len(contracts)} contracts in {root} match the code")


@contracts_app.command("check")
def check(root: Path = ContractsDir, gateway_config: Path = GatewayConfigPath) -> None:
    """Exit 1 when any served SDL differs from its frozen contract, listing every change."""
    contracts = live_contracts(gateway_config, root)
    drifted = 0
    for path, live, status in contracts:
        frozen = _frozen(path)
        if frozen == live:
            continue
        drifted += 1
        changes = _changes(frozen, live)
        released = status in RELEASED or status is None
        note = (
            "breaking a released version"
            if changes.breaking and released
            else "not exported: review, then `apgraph contracts export`"
        )
        typer.echo(changes.as_text(f"{path} ({note}):"), err=True)
    if drifted:
        fail(f"{drifted} of {len(contracts)} contracts differ from the schema the code serves")
    typer.echo(f"apgraph: {len(contracts)} contracts match the schema")


@contracts_app.command("diff")
def diff(
    product: str = typer.Argument(..., help="e.g. supplier-portal"),
    old: str = typer.Argument(..., help="the version to compare from, e.g. v1"),
    new: str = typer.Argument(..., help="the version to compare to, e.g. v2"),
    root: Path = ContractsDir,
    markdown: bool = typer.Option(False, "--markdown", help="Markdown, for a pull request."),
) -> None:
    """Breaking, dangerous and safe changes between two frozen versions of a product."""
    paths = [contract_path(root, product, version) for version in (old, new)]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        fail(f"no contract at {', '.join(missing)}")
    changes = changes_between(*(_frozen(path) for path in paths))
    title = f"{product}: {old} → {new}"
    typer.echo(changes.as_markdown(title) if markdown else changes.as_text(title))
