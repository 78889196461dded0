"""`apgraph config history`: the configuration of each server start, and what changed.

Each start of `apgraph serve` records its effective configuration (gateway.yaml, the policy
file, the frozen contracts' hashes, the settings; never a secret) and audits it
(`config.started`); this prints the latest starts with the changes each brought.
"""

import asyncio
from pathlib import Path

import typer

from apgraph.cli.options import DatabaseUrl, DataDir, fail, settings_from
from apgraph.domain.configuration import ConfigurationStart, changes
from apgraph.gateway.refusal import StartupError
from apgraph.store import migrate
from apgraph.store.config_history import history
from apgraph.store.database import create_engine

config_app = typer.Typer(help="The configuration each server start ran with.")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


@config_app.command("history")
def show_history(
    limit: int = typer.Option(10, min=1, max=1000, help="How many starts, newest last."),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
) -> None:
    """Each start: when, who, the fingerprint, and every change since the start before."""
    settings = settings_from(database_url=database_url, data_dir=data_dir)

    async def run() -> list[ConfigurationStart]:
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.resolved_database_url, schema=settings.database_schema)
        try:
            await migrate.upgrade(engine)
            return await history(engine, limit=limit + 1)  # one more: what the first changed
        finally:
            await engine.dispose()

    try:
        starts = asyncio.run(run())
    except StartupError as error:
        fail(str(error))
    if not starts:
        typer.echo("apgraph: no server start recorded yet")
        return
    shown = starts[-limit:]
    previous = starts[0] if len(starts) > limit else None
    for start in shown:
        typer.echo(
            f"{start.started_at:%Y-%m-%d %H:%M:%S}Z  {start.fingerprint[:12]}  {start.started_by}"
        )
        found = changes(previous.document if previous else None, start.document)
        if previous is None:
            typer.echo("  (first start recorded)")
        elif not found:
            typer.echo("  unchanged")
        for change in found:
            typer.echo(f"  {change.line()}")
        previous = start
