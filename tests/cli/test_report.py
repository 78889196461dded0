"""`apgraph report`: the KPIs of a date range, checked against the database counted by hand."""

import asyncio
import csv
import io
import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apgraph.cli.main import app
from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.store import migrate
from apgraph.store.database import create_engine
from tests.keys import keyring_for

JUNE = ["--from", "2026-06-01", "--to", "2026-06-30"]
POSTED_OR_LATER = {"POSTED", "SCHEDULED", "PAID", "REMITTED"}
COUNTED = {"RECEIVED", "VALIDATED", "REJECTED", "MATCHED", "EXCEPTION", "POSTED"}


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory, network: generator.DemoNetwork) -> Path:
    path = tmp_path_factory.mktemp("report") / "apgraph.db"

    async def seed() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await migrate.upgrade(engine)
        await demo_writer.write(engine, network, keyring=await keyring_for(engine))
        await engine.dispose()

    asyncio.run(seed())
    return path


def report(database: Path, *arguments: str) -> str:
    result = CliRunner().invoke(
        app, ["report", *arguments, "--database-url", f"sqlite+aiosqlite:///{database}"]
    )
    assert result.exit_code == 0, result.output
    return result.output


def rows(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def test_counts_are_the_status_changes_made_in_the_range_by_facility(database):
    found = json.loads(report(database, *JUNE, "--format", "json"))

    expected = Counter(
        {
            (facility, status): n
            for facility, status, n in rows(
                database,
                "SELECT i.facility_id, c.to_status, count(*) FROM invoice_status_changes c "
                "JOIN invoices i ON i.id = c.invoice_id "
                "WHERE c.at >= '2026-06-01' AND c.at < '2026-07-01' GROUP BY 1, 2",
            )
        }
    )
    assert expected  # the demo network has June activity
    reported = {
        (facility, status): n
        for facility, counts in found["byFacility"].items()
        for status, n in counts.items()
        if n
    }
    assert reported == {key: n for key, n in expected.items() if key[1] in COUNTED}


def test_rates_and_exceptions_are_of_the_invoices_received_in_the_range(database):
    found = json.loads(report(database, *JUNE, "--format", "json"))

    cohort = {
        invoice_id: status
        for invoice_id, status in rows(
            database,
            "SELECT id, status FROM invoices "
            "WHERE received_at >= '2026-06-01' AND received_at < '2026-07-01'",
        )
    }
    history: dict[str, list[str]] = {}
    for invoice_id, to_status in rows(
        database, "SELECT invoice_id, to_status FROM invoice_status_changes ORDER BY sequence"
    ):
        if invoice_id in cohort:
            history.setdefault(invoice_id, []).append(to_status)
    matched = [i for i, h in history.items() if "MATCHED" in h or "EXCEPTION" in h]
    clean = [i for i in matched if "EXCEPTION" not in history[i]]
    posted = [i for i, status in cohort.items() if status in POSTED_OR_LATER]
    untouched = [i for i in posted if "EXCEPTION" not in history[i]]
    assert found["matchRate"] == round(len(clean) / len(matched), 4)
    assert found["touchlessRate"] == round(len(untouched) / len(posted), 4)
    assert found["receiptToPosting"]["count"] == sum("POSTED" in h for h in history.values())

    open_by_reason = Counter(
        {
            (facility, code): n
            for facility, code, n in rows(
                database,
                "SELECT i.facility_id, e.code, count(*) FROM invoice_exceptions e "
                "JOIN invoices i ON i.id = e.invoice_id WHERE i.status = 'EXCEPTION' "
                "AND i.received_at >= '2026-06-01' AND i.received_at < '2026-07-01' "
                "GROUP BY 1, 2",
            )
        }
    )
    assert {
        (row["facility"], row["reason"]): row["count"] for row in found["openExceptionsByReason"]
    } == dict(open_by_reason)


def test_csv_and_table_say_what_json_says(database):
    found = json.loads(report(database, *JUNE, "--format", "json"))
    table = list(csv.DictReader(io.StringIO(report(database, *JUNE, "--format", "csv"))))
    posted = {r["facility"]: int(r["value"]) for r in table if r["kpi"] == "invoices_posted"}
    assert posted == {f: counts["POSTED"] for f, counts in found["byFacility"].items()}
    assert float(next(r["value"] for r in table if r["kpi"] == "match_rate")) == found["matchRate"]

    printed = report(database, *JUNE)
    assert all(facility in printed for facility in found["byFacility"])
    assert f"{found['matchRate']:.1%}" in printed


def test_a_range_that_ends_before_it_starts_is_refused(database):
    result = CliRunner().invoke(
        app,
        ["report", "--from", "2026-06-30", "--to", "2026-06-01", "--database-url", "sqlite://"],
    )
    assert result.exit_code == 1
    assert "before --from" in result.output
