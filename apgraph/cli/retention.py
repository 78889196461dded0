"""`apgraph retention run [--dry-run]` and `apgraph hold place | release | list`.

A run purges, kind by kind, what gateway.yaml's `retention` says is past keeping, in
bounded batches, and prints what went (or, with --dry-run, what would); every purge is
audited. A legal hold keeps every record of an invoice, or of all a supplier's invoices.
"""

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.cli.options import DatabaseUrl, DataDir, GatewayConfigPath, fail, settings_from
from apgraph.domain import ids
from apgraph.gateway.key_encryption import open_keyring
from apgraph.gateway.retention import run_retention
from apgraph.gateway.runtime import SystemClock
from apgraph.gateway.startup import StartupError, load_config
from apgraph.settings import Settings
from apgraph.store import migrate
from apgraph.store.database import create_engine
from apgraph.store.holds import LegalHolds
from apgraph.store.retention import Purged

T = TypeVar("T")
retention_app = typer.Typer(help="Purging records past their retention (gateway.yaml).")
hold_app = typer.Typer(help="Legal holds: invoices and suppliers retention never purges.")


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")
    app.add_typer(hold_app, name="hold")


@retention_app.command("run")
def run(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would go; delete nothing."),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Purge every kind of record past its retention, in bounded batches."""
    settings = settings_from(
        database_url=database_url, data_dir=data_dir, gateway_config=gateway_config
    )

    async def work(engine: AsyncEngine) -> list[Purged]:
        config = load_config(settings)
        clock = SystemClock()
        keyring = await open_keyring(settings, config, engine, now=clock.now())
        return await run_retention(
            engine, keyring, config, now=clock.now(), dry_run=dry_run, actor=_actor()
        )

    results = _run(settings, work)
    for purged in results:
        span = (
            f"{purged.oldest:%Y-%m-%d} .. {purged.newest:%Y-%m-%d}"
            if purged.oldest and purged.newest
            else "-"
        )
        typer.echo(f"{purged.kind:18} {purged.count:>8}  {span}")
    if not results:
        typer.echo("apgraph: gateway.yaml's retention names no kind; nothing is ever purged")
    elif dry_run:
        typer.echo("apgraph: dry run, nothing purged")
    else:
        typer.echo("apgraph: purged (audited)")


@hold_app.command("place")
def place(
    entity_id: str = typer.Argument(..., help="An invoice (INV-…) or a supplier (SUP-…)."),
    reason: str = typer.Option(..., "--reason", help="Why, e.g. the matter or case number."),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
) -> None:
    """Keep every record of this invoice (or of all this supplier's invoices) until released."""
    settings = settings_from(database_url=database_url, data_dir=data_dir)
    checked = _entity(entity_id)
    placed = _run(
        settings,
        lambda engine: LegalHolds(engine).place(
            checked, reason=reason, by=_actor(), at=SystemClock().now()
        ),
    )
    if not placed:
        fail(f"no {checked} in the database")
    typer.echo(f"apgraph: {checked} is under legal hold")


@hold_app.command("release")
def release(entity_id: str, database_url: str = DatabaseUrl, data_dir: Path = DataDir) -> None:
    """Let retention apply to this invoice or supplier again."""
    settings = settings_from(database_url=database_url, data_dir=data_dir)
    checked = _entity(entity_id)
    released = _run(
        settings,
        lambda engine: LegalHolds(engine).release(checked, by=_actor(), at=SystemClock().now()),
    )
    if not released:
        fail(f"{checked} is not under legal hold")
    typer.echo(f"apgraph: {checked} released from legal hold")


@hold_app.command("list")
def list_holds(database_url: str = DatabaseUrl, data_dir: Path = DataDir) -> None:
    """Every hold: what, since when, by whom, why."""
    settings = settings_from(database_url=database_url, data_dir=data_dir)
    holds = _run(settings, lambda engine: LegalHolds(engine).all())
    for hold in holds:
        typer.echo(
            f"{hold.entity_id:14} {hold.placed_at:%Y-%m-%d}  {hold.placed_by}  {hold.reason}"
        )
    if not holds:
        typer.echo("apgraph: no legal holds")


def _entity(raw: str) -> str:
    try:
        return ids.invoice(raw) if raw.startswith("INV") else ids.supplier(raw)
    except ids.InvalidId as error:
        fail(str(error))


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _run(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    async def main() -> T:
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.resolved_database_url, schema=settings.database_schema)
        try:
            await migrate.upgrade(engine)
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except StartupError as error:
        fail(str(error))
