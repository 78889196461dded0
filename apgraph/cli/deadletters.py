"""`apgraph deadletters list|replay`: invoices whose ERP posting failed, and posting them again.

In embedded mode the ERP simulators live inside each process, so a replay from the command
line posts to this command's own simulators; there, use the `retryPosting` mutation against
the running server instead. With real ERPs (connectors.mode: remote) both reach the same books.
"""

import asyncio
from datetime import timedelta
from pathlib import Path

import typer

from apgraph.cli.options import DatabaseUrl, DataDir, GatewayConfigPath, fail, settings_from
from apgraph.domain.principal import RowScope
from apgraph.gateway.request_context import workflow_for
from apgraph.gateway.runtime import Runtime
from apgraph.gateway.startup import StartupError, load_config
from apgraph.services.dead_letters import ReplayReport, dead_letters, replay_dead_letters
from apgraph.services.posting_recovery import interrupted_postings
from apgraph.settings import Settings
from apgraph.store.connector_state import SqlPostingLedger

deadletters_app = typer.Typer(
    help="Invoices whose ERP posting failed past every retry, or was interrupted by a crash."
)

Limit = typer.Option(100, min=1, max=10_000, help="How many, oldest first.")


def register(app: typer.Typer) -> None:
    app.add_typer(deadletters_app, name="deadletters")


def _settings(database_url: str | None, data_dir: Path | None, config: Path | None) -> Settings:
    return settings_from(database_url=database_url, data_dir=data_dir, gateway_config=config)


@deadletters_app.command("list")
def list_dead_letters(
    limit: int = Limit,
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Every invoice in POSTING_FAILED, oldest first; then every posting a crash interrupted
    (MATCHED past the grace period, outcome unknown), which the server resolves on its own."""
    settings = _settings(database_url, data_dir, gateway_config)

    async def run() -> list[str]:
        runtime = Runtime.open(settings, load_config(settings))
        try:
            reads = runtime.reads(RowScope())
            found = await dead_letters(reads=reads, limit=limit)
            interrupted, _ = await interrupted_postings(
                reads=reads,
                ledger=SqlPostingLedger(runtime.engine),
                now=runtime.clock.now(),
                grace=timedelta(seconds=settings.posting_recovery_grace_seconds),
                limit=limit,
            )
            return [
                f"{i.id}  {i.facility_id}  {i.supplier_id}  {i.total} {i.currency}" for i in found
            ] + [
                f"{i.id}  {i.facility_id}  {i.supplier_id}  {i.total} {i.currency}  "
                f"{i.status.value}: posting interrupted, outcome unknown (resolved by the server)"
                for i in interrupted
            ]
        finally:
            await runtime.close()

    try:
        lines = asyncio.run(run())
    except StartupError as error:
        fail(str(error))
    typer.echo("\n".join(lines) if lines else "apgraph: no dead letters")


@deadletters_app.command("replay")
def replay(
    limit: int = Limit,
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Post the dead letters again, each under its one posting key (never twice). Exit 1 if
    any still fails."""
    settings = _settings(database_url, data_dir, gateway_config)

    async def run() -> ReplayReport:
        runtime = Runtime.open(settings, load_config(settings))
        try:
            # routes stored with each facility (the shipped gateway.yaml overrides none): read
            # them as `serve` does, or every replay answers ERP_ROUTE_UNKNOWN
            await runtime.connectors.ready_to_post(runtime.engine, runtime.keyring)
            return await replay_dead_letters(
                reads=runtime.reads(RowScope()),
                workflow=workflow_for(runtime, None),
                clock=runtime.clock,
                limit=limit,
            )
        finally:
            await runtime.close()

    try:
        report = asyncio.run(run())
    except StartupError as error:
        fail(str(error))
    for invoice_id in report.posted:
        typer.echo(f"{invoice_id}  POSTED")
    for invoice_id, code in report.still_failing:
        typer.echo(f"{invoice_id}  still failing: {code}")
    if report.still_failing:
        fail(f"{len(report.still_failing)} dead letter(s) still failing; try again later")
    typer.echo(f"apgraph: replayed {len(report.posted)} dead letter(s)")
