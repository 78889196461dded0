"""`apgraph report --from DATE --to DATE`: the KPIs for a date range, for a terminal (rich
tables) or for finance (`--format csv|json`), read from the database /metrics reads."""

import asyncio
import csv
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from apgraph.cli.options import DatabaseUrl, DataDir, fail, settings_from
from apgraph.services.kpi_report import COUNTED, KpiReport, Spread, kpi_report
from apgraph.store.database import create_engine
from apgraph.store.figures import SqlFigures


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    start: datetime = typer.Option(
        ..., "--from", formats=["%Y-%m-%d"], help="First day (UTC), e.g. 2026-11-01."
    ),
    end: datetime = typer.Option(
        ..., "--to", formats=["%Y-%m-%d"], help="Last day (UTC), included."
    ),
    format: Format = typer.Option(Format.table, "--format", help="table, csv or json."),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
) -> None:
    """Invoices received, validated, rejected, matched, sent to exception and posted by
    facility; match and touchless rates; approval cycle and receipt-to-posting times (p50,
    p90); open exceptions by reason. Counts are the status changes made in the range; rates,
    times and exceptions are of the invoices received in it."""
    if end < start:
        fail(f"--to {end.date()} is before --from {start.date()}")
    settings = settings_from(database_url=database_url, data_dir=data_dir, announce=False)

    async def run() -> KpiReport:
        engine = create_engine(settings.resolved_database_url, schema=settings.database_schema)
        try:
            return await kpi_report(
                SqlFigures(engine), start.date(), end.date(), now=datetime.now(UTC)
            )
        finally:
            await engine.dispose()

    try:
        found = asyncio.run(run())
    except SQLAlchemyError as error:
        fail(
            f"cannot read the database ({type(error).__name__}); is it upgraded? "
            "`apgraph db upgrade` creates the tables"
        )
    if format is Format.json:
        typer.echo(json.dumps(as_json(found), indent=2))
    elif format is Format.csv:
        write_csv(found)
    else:
        print_tables(found)


def as_json(found: KpiReport) -> dict[str, object]:
    return {
        "from": found.start.isoformat(),
        "to": found.end.isoformat(),
        "byFacility": {row.facility_id: row.counts for row in found.by_facility},
        "matchRate": found.match_rate,
        "touchlessRate": found.touchless_rate,
        "approvalCycle": asdict(found.approval_cycle),
        "receiptToPosting": asdict(found.receipt_to_posting),
        "openExceptionsByReason": [
            {"facility": f, "reason": code, "count": n} for f, code, n in found.exceptions_by_reason
        ],
    }


def write_csv(found: KpiReport) -> None:
    """One tidy table: kpi, facility, reason, value (blank where it does not apply)."""
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["kpi", "facility", "reason", "value"])
    for row in found.by_facility:
        for status in COUNTED:
            out.writerow(
                [f"invoices_{status.value.lower()}", row.facility_id, "", row.counts[status.value]]
            )
    out.writerow(["match_rate", "", "", _blank(found.match_rate)])
    out.writerow(["touchless_rate", "", "", _blank(found.touchless_rate)])
    for name, spread in (
        ("approval_cycle", found.approval_cycle),
        ("receipt_to_posting", found.receipt_to_posting),
    ):
        out.writerow([f"{name}_count", "", "", spread.count])
        out.writerow([f"{name}_p50_hours", "", "", _blank(spread.p50_hours)])
        out.writerow([f"{name}_p90_hours", "", "", _blank(spread.p90_hours)])
    for facility, code, count in found.exceptions_by_reason:
        out.writerow(["open_exceptions", facility, code, count])


def print_tables(found: KpiReport) -> None:
    console = Console()
    counts = Table(title=f"Invoices {found.start} – {found.end} (status changes in the range)")
    counts.add_column("facility")
    for status in COUNTED:
        counts.add_column(status.value.lower(), justify="right")
    for row in found.by_facility:
        counts.add_row(row.facility_id, *(str(row.counts[s.value]) for s in COUNTED))
    console.print(counts)

    rates = Table(title="Invoices received in the range")
    rates.add_column("kpi")
    rates.add_column("value", justify="right")
    rates.add_row("match rate", _percent(found.match_rate))
    rates.add_row("touchless rate", _percent(found.touchless_rate))
    for name, spread in (
        ("approval cycle", found.approval_cycle),
        ("receipt to posting", found.receipt_to_posting),
    ):
        rates.add_row(f"{name} p50 / p90 (h)", _spread(spread))
    console.print(rates)

    reasons = Table(title="Open exceptions by reason (invoices received in the range)")
    for column in ("facility", "reason", "open"):
        reasons.add_column(column, justify="right" if column == "open" else "left")
    for facility, code, count in found.exceptions_by_reason:
        reasons.add_row(facility, code, str(count))
    console.print(reasons)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _spread(spread: Spread) -> str:
    if not spread.count:
        return "–"
    return f"{spread.p50_hours} / {spread.p90_hours} (n={spread.count})"


def _blank(value: float | None) -> object:
    return "" if value is None else value
