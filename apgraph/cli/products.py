"""`apgraph products usage`: who calls which API product version, from the database (each
server adds its counts every few seconds)."""

from datetime import UTC, datetime
from pathlib import Path

import typer

from apgraph.cli.identity import _run
from apgraph.cli.options import DatabaseUrl, DataDir, fail, settings_from
from apgraph.store.usage import UsageRepository

products_app = typer.Typer(help="API products: usage per product, version, client, operation.")


def register(app: typer.Typer) -> None:
    app.add_typer(products_app, name="products")


@products_app.command("usage")
def usage(
    product: str = typer.Option(None, help="e.g. supplier-portal; default: every product"),
    version: str = typer.Option(None, help="e.g. v1; default: every version"),
    since: str = typer.Option(None, help="ISO date or time (UTC), e.g. 2026-12-01"),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
) -> None:
    """Requests, errors and latency per product version, client and operation, busiest first."""
    start = None
    if since is not None:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            fail(f"--since {since!r} is not an ISO date or time, e.g. 2026-12-01")
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    settings = settings_from(database_url=database_url, data_dir=data_dir)
    totals = _run(
        settings,
        lambda engine: UsageRepository(engine).totals(
            product=product, version=version, since=start
        ),
    )
    typer.echo(
        f"{'product':20} {'version':7} {'client':24} {'operation':28} {'requests':>9} "
        f"{'errors':>7} {'mean ms':>8} {'max ms':>8}  last seen"
    )
    for t in totals:
        typer.echo(
            f"{t.product:20} {t.version:7} {t.client:24} {t.operation:28} {t.requests:>9} "
            f"{t.errors:>7} {t.mean_latency_ms:>8.1f} {t.max_latency_ms:>8.1f}  "
            f"{t.last_seen.isoformat(timespec='minutes')}"
        )
