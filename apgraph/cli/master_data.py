"""`apgraph import PATH` and `apgraph export PATH`: master-data bundles in and out.

An import checks the whole bundle before it writes anything and prints one line per problem,
then the rows per entity; it exits 1 when the bundle is invalid. In embedded mode the
simulators live inside the server's process: a server started after the import loads what
the database holds into them, and routes the imported facilities by their stored columns.
"""

import asyncio
import getpass
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.cli.options import DatabaseUrl, DataDir, GatewayConfigPath, fail, settings_from
from apgraph.domain import ids
from apgraph.domain.bundle import ImportReport
from apgraph.domain.principal import RowScope
from apgraph.gateway.key_encryption import open_keyring
from apgraph.gateway.runtime import SystemClock
from apgraph.gateway.startup import StartupError, load_config
from apgraph.services.bundles import read_bundle_path_result, write_bundle_path
from apgraph.services.exports import exported, masked
from apgraph.services.onboarding import Progress as ProgressCallback
from apgraph.services.onboarding import import_bundle
from apgraph.settings import Settings
from apgraph.store import migrate
from apgraph.store.audit import AuditRepository
from apgraph.store.database import create_engine
from apgraph.store.facilities import FacilityRepository
from apgraph.store.keyring import Keyring
from apgraph.store.master_data_io import SqlMasterData, UnreadableSupplier, read_bundle

LARGE_BUNDLE_ROWS = 10_000  # from this size the progress bar shows even without a terminal


class BundleFormat(Enum):
    JSON = "json"
    CSV = "csv"


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("export")(export_command)


def import_command(
    path: Path = typer.Argument(..., help="bundle.json, or a directory of CSV files."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and report; write nothing."),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
) -> None:
    """Import a master-data bundle: all of it, or, with any problem, nothing."""
    settings = settings_from(database_url=database_url, data_dir=data_dir)
    read = read_bundle_path_result(path)
    total = sum(read.bundle.counts().values()) if read.bundle is not None else 0

    async def run(progress: ProgressCallback | None) -> ImportReport:
        engine = await _migrated_engine(settings)
        try:
            keyring = await _keyring(settings, engine)
            return await import_bundle(
                read.bundle,
                problems=read.problems,
                partial=read.partial,
                store=SqlMasterData(engine, keyring),
                actor=f"cli:{getpass.getuser()}",
                clock=SystemClock(),
                dry_run=dry_run,
                progress=progress,
                locate=lambda known: read_bundle_path_result(path, known=known).problems,
            )
        finally:
            await engine.dispose()

    unreadable = read.bundle is None and not any(read.partial.counts().values())
    if unreadable:  # nothing parsed: no reference to look up, so the database is left alone
        report = ImportReport(
            problems=tuple(read.problems),
            counts={},
            created={},
            updated={},
            unchanged={},
            dry_run=dry_run,
        )
    else:
        with _progress_bar(total) as progress:
            try:
                report = asyncio.run(run(progress))
            except StartupError as error:
                fail(str(error))
    for line in _report_lines(report):
        typer.echo(line)
    if not report.valid:
        raise typer.Exit(code=1)


def export_command(
    path: Path = typer.Argument(..., help="A .json file, or a directory for CSV files."),
    format: BundleFormat = typer.Option(BundleFormat.JSON, "--format", case_sensitive=False),
    facility: list[str] = typer.Option(
        None, "--facility", help="Only this facility's data (repeatable). Default: everything."
    ),
    policy: bool = typer.Option(
        False, "--policy/--no-policy", help="Include gateway.yaml's matching policy."
    ),
    include_classified: bool = typer.Option(
        False,
        "--include-classified",
        help="Write classified values (tax ids, bank routing and account numbers) in plain. "
        "Without it they are masked (all but the last 4), and such a file cannot be "
        "imported over real values. Every export is audited, and says which it was.",
    ),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Export master data in the format `apgraph import` reads (with --include-classified,
    export → import round-trips)."""
    settings = settings_from(
        database_url=database_url, data_dir=data_dir, gateway_config=gateway_config
    )
    facilities = _facility_ids(facility) if facility else None
    matching: Mapping[str, object] | None = None
    if policy:
        try:
            matching = load_config(settings).matching.model_dump(mode="json")
        except StartupError as error:
            fail(str(error))

    async def run() -> dict[str, int]:
        engine = await _migrated_engine(settings)
        try:
            if facilities is not None:
                await _require_facilities(engine, facilities)
            keyring = await _keyring(settings, engine)
            bundle = await read_bundle(engine, keyring, facilities=facilities, policy=matching)
            if not include_classified:
                bundle = masked(bundle)
            # audited before a byte is written: an export nobody can account for never exists
            await AuditRepository(engine).record(
                [
                    exported(
                        actor=f"cli:{getpass.getuser()}",
                        bundle=bundle,
                        plain=include_classified,
                        facilities=facilities,
                    )
                ],
                at=SystemClock().now(),
            )
        finally:
            await engine.dispose()
        write_bundle_path(bundle, path, format=format.value)
        return bundle.counts()

    try:
        counts = asyncio.run(run())
    except StartupError as error:
        fail(str(error))
    except UnreadableSupplier as error:
        fail(f"{error}; nothing was exported")
    for entity, rows in counts.items():
        typer.echo(f"{entity:22} {rows:>8}")
    shown = "in plain" if include_classified else "masked"
    typer.echo(f"apgraph: exported to {path} (classified values {shown}; audited)")


def _report_lines(report: ImportReport) -> Iterator[str]:
    yield from (problem.line() for problem in report.problems)
    if report.problems:
        yield f"apgraph: {len(report.problems)} problem(s); nothing was imported"
    if report.counts:
        yield f"{'entity':22} {'rows':>8} {'created':>8} {'updated':>8} {'unchanged':>9}"
    for entity, rows in report.counts.items():
        done = [report.created, report.updated, report.unchanged]
        cells = [_cell(counts.get(entity)) for counts in done]
        yield f"{entity:22} {rows:>8} {cells[0]:>8} {cells[1]:>8} {cells[2]:>9}"
    if report.dry_run and report.valid:
        yield "apgraph: valid; dry run, nothing written"
    elif report.applied and not any([*report.created.values(), *report.updated.values()]):
        yield "apgraph: imported; every row was already stored as it is, nothing written"
    elif report.applied:
        yield "apgraph: imported"


def _cell(count: int | None) -> str:
    return "-" if count is None else str(count)


@contextmanager
def _progress_bar(total: int) -> Iterator[ProgressCallback | None]:
    """A bar on stderr while rows are compared and written, when someone can watch it."""
    console = Console(stderr=True)
    if total == 0 or not (console.is_terminal or total >= LARGE_BUNDLE_ROWS):
        yield None
        return
    columns = (
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("rows", total=total)
        yield lambda done: bar.update(task, completed=done)


def _facility_ids(raw: Sequence[str]) -> list[str]:
    try:
        return sorted({ids.facility(value) for value in raw})
    except ids.InvalidId as error:
        fail(str(error))


async def _require_facilities(engine: AsyncEngine, facilities: Sequence[str]) -> None:
    found = {f.id for f in await FacilityRepository(engine, RowScope()).get_many(facilities)}
    unknown = [f for f in facilities if f not in found]
    if unknown:
        fail(f"unknown facilities: {', '.join(unknown)}")


async def _keyring(settings: Settings, engine: AsyncEngine) -> Keyring:
    return await open_keyring(settings, load_config(settings), engine, now=SystemClock().now())


async def _migrated_engine(settings: Settings) -> AsyncEngine:
    """The database, migrated to the latest revision: an import may be its first use."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url, schema=settings.database_schema)
    await migrate.upgrade(engine)
    return engine
