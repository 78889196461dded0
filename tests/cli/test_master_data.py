"""`apgraph import` and `apgraph export`, run as commands on a temporary database."""

import asyncio
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apgraph.cli.main import app
from apgraph.demo import generator
from apgraph.services.bundles import write_bundle_path
from tests.bundles import bundle_of
from tests.databases import drop_database, make_database
from tests.keys import TEST_KEK
from tests.services.bundles.examples import CSV_TEXT, csv_files

TINY = generator.DemoSize(facilities=3, suppliers=10, purchase_orders=40, invoices=60)


def run(*arguments: str, **environment: str):
    kept = {k: v for k, v in os.environ.items() if not k.startswith("APGRAPH_")}
    return CliRunner().invoke(app, list(arguments), env={**kept, **environment})


@pytest.fixture(scope="module")
def bundle_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bundle") / "bundle.json"
    write_bundle_path(bundle_of(generator.generate(TINY)), path, format="json")
    return path


def _table(output: str) -> dict[str, list[str]]:
    """The counts table: entity → [rows, created, updated, unchanged]."""
    rows = [line.split() for line in output.splitlines()]
    start = next(i for i, row in enumerate(rows) if row[:2] == ["entity", "rows"])
    return {row[0]: row[1:] for row in rows[start + 1 :] if len(row) == 5}


def test_an_import_prints_its_counts_and_a_second_one_changes_nothing(bundle_file, tmp_path):
    # given an empty data directory
    data = str(tmp_path / "data")

    # when the bundle is imported twice
    first = run("import", str(bundle_file), "--data-dir", data)
    second = run("import", str(bundle_file), "--data-dir", data)

    # then the first creates every row, the second finds every row unchanged
    assert first.exit_code == 0, first.output
    assert _table(first.output)["purchase_orders"] == ["40", "40", "0", "0"]
    assert second.exit_code == 0, second.output
    assert _table(second.output)["purchase_orders"] == ["40", "0", "0", "40"]
    assert _table(second.output)["suppliers"] == ["10", "0", "0", "10"]
    assert second.output.splitlines()[-1] == (
        "apgraph: imported; every row was already stored as it is, nothing written"
    )


def test_an_invalid_bundle_prints_one_line_per_problem_exits_1_and_writes_nothing(
    bundle_file, tmp_path
):
    # given a bundle with an unknown supplier on one PO and a negative quantity on another
    document = json.loads(bundle_file.read_text())
    document["purchase_orders"][1]["supplier_id"] = "SUP-999999"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    data = str(tmp_path / "data")

    # when it is imported
    result = run("import", str(bad), "--data-dir", data)

    # then each problem is one line naming file, JSON pointer, field and code; nothing is stored
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "bad.json /purchase_orders/1/supplier_id: supplier_id: UNKNOWN_REFERENCE: "
        "supplier SUP-999999 is neither in the bundle nor stored"
    )
    exported = tmp_path / "after.json"
    assert run("export", str(exported), "--data-dir", data).exit_code == 0
    assert json.loads(exported.read_text())["purchase_orders"] == []


def test_a_dry_run_reports_and_writes_nothing(bundle_file, tmp_path):
    data = str(tmp_path / "data")

    result = run("import", str(bundle_file), "--dry-run", "--data-dir", data)

    assert result.exit_code == 0, result.output
    assert _table(result.output)["purchase_orders"] == ["40", "40", "0", "0"]  # would be created
    assert "dry run, nothing written" in result.output
    exported = tmp_path / "after.json"
    assert run("export", str(exported), "--data-dir", data).exit_code == 0
    assert json.loads(exported.read_text())["suppliers"] == []


def test_a_dry_run_prints_a_bad_row_and_another_rows_unknown_reference(tmp_path):
    # given a CSV folder whose receipts hold a negative quantity and a PO that exists nowhere
    header = CSV_TEXT["goods_receipts.csv"].splitlines()[0]
    receipts = (
        f"{header}\n"
        "GR-00000001,PO-2026-000001,1,-8,2026-01-10T13:17:45Z\n"
        "GR-00000002,PO-2026-000777,1,40,2026-01-11T09:00:00Z\n"
    )
    folder = tmp_path / "bundle"
    folder.mkdir()
    for name, data in csv_files(goods_receipts=receipts).items():
        (folder / name).write_bytes(data)

    # when it is checked
    result = run("import", str(folder), "--dry-run", "--data-dir", str(tmp_path / "data"))

    # then both problems are printed, one line each, and the command fails
    assert result.exit_code == 1
    assert result.output.splitlines()[:3] == [
        "goods_receipts.csv row 2: quantity: NEGATIVE_QUANTITY: -8 is negative",
        "goods_receipts.csv row 3: purchase_order_id: UNKNOWN_REFERENCE: "
        "purchase order PO-2026-000777 is neither in the bundle nor stored",
        "apgraph: 2 problem(s); nothing was imported",
    ]


def test_a_facility_exported_as_csv_imports_alone_into_an_empty_database(bundle_file, tmp_path):
    # given a database holding three facilities
    source = str(tmp_path / "source")
    assert run("import", str(bundle_file), "--data-dir", source).exit_code == 0

    # when FAC-0002 is exported as CSV and imported into an empty database
    folder = tmp_path / "fac-0002"
    exported = run(
        "export",
        str(folder),
        "--format",
        "csv",
        "--facility",
        "FAC-0002",
        "--include-classified",
        "--data-dir",
        source,
    )
    imported = run("import", str(folder), "--data-dir", str(tmp_path / "target"))

    # then the import is valid and holds that facility alone
    assert exported.exit_code == 0, exported.output
    assert imported.exit_code == 0, imported.output
    assert _table(imported.output)["facilities"] == ["1", "1", "0", "0"]
    again = tmp_path / "again.json"
    assert run("export", str(again), "--data-dir", str(tmp_path / "target")).exit_code == 0
    assert [f["id"] for f in json.loads(again.read_text())["facilities"]] == ["FAC-0002"]


def test_exporting_an_unknown_facility_fails_in_one_line(tmp_path):
    result = run(
        "export", str(tmp_path / "x.json"), "--facility", "FAC-0042", "--data-dir", str(tmp_path)
    )

    assert result.exit_code == 1
    assert result.output.strip() == "apgraph: unknown facilities: FAC-0042"


def test_a_malformed_facility_id_fails_in_one_line(tmp_path):
    result = run(
        "export", str(tmp_path / "x.json"), "--facility", "hospital", "--data-dir", str(tmp_path)
    )

    assert result.exit_code == 1
    assert "is not a valid facility id" in result.output


@pytest.mark.postgres
def test_import_and_export_against_postgresql(bundle_file, tmp_path):
    # given a fresh PostgreSQL schema
    database = asyncio.run(make_database("postgresql", tmp_path))
    schema = {
        "APGRAPH_DATABASE_SCHEMA": database.schema or "",
        "APGRAPH_KEY_ENCRYPTION_KEY": TEST_KEK,
    }
    try:
        # when the bundle is imported, then exported
        imported = run("import", str(bundle_file), "--database-url", database.url, **schema)
        exported = tmp_path / "out.json"
        result = run(
            "export",
            str(exported),
            "--include-classified",
            "--database-url",
            database.url,
            **schema,
        )

        # then the export equals the imported file
        assert imported.exit_code == 0, imported.output
        assert result.exit_code == 0, result.output
        assert json.loads(exported.read_text()) == json.loads(bundle_file.read_text())
    finally:
        asyncio.run(drop_database(database))


def test_an_unreadable_bundle_leaves_the_database_alone(tmp_path):
    # given no database yet, and a path that is no bundle
    data_dir = tmp_path / "data"

    result = run("import", str(tmp_path / "nowhere.json"), "--data-dir", str(data_dir))

    # then the problem is reported, and no database was created or migrated for it
    assert result.exit_code == 1
    assert "MISSING_FILE" in result.output
    assert not data_dir.exists()


def test_an_export_masks_classified_values_unless_asked_and_is_audited_either_way(
    bundle_file, tmp_path
):
    # given a database holding suppliers with tax ids and bank accounts
    data = str(tmp_path / "data")
    assert run("import", str(bundle_file), "--data-dir", data).exit_code == 0
    suppliers = json.loads(bundle_file.read_text())["suppliers"]
    accounts = [s["remit_to"]["account_number"] for s in suppliers if s["remit_to"]]
    tax_ids = [s["tax_id"] for s in suppliers]

    # when it is exported without, then with, --include-classified
    masked, plain = tmp_path / "masked.json", tmp_path / "plain.json"
    first = run("export", str(masked), "--data-dir", data)
    second = run("export", str(plain), "--include-classified", "--data-dir", data)

    # then the first file shows the last four characters only, the second the values whole
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "classified values masked; audited" in first.output
    masked_text, plain_text = masked.read_text(), plain.read_text()
    assert not any(value in masked_text for value in accounts + tax_ids)
    assert all(value in plain_text for value in accounts + tax_ids)
    # and a masked file cannot be imported back over the real values
    again = run("import", str(masked), "--data-dir", data)
    assert again.exit_code == 1
    assert "a masked value" in again.output
    # and both exports are in the audit trail, saying which they were
    entries = asyncio.run(_audited(tmp_path / "data", "master_data.exported"))
    assert [json.loads(e.event.detail)["classified"] for e in entries] == ["masked", "plain"]
    assert run("audit", "verify", "--data-dir", data).exit_code == 0


async def _audited(data_dir: Path, action: str):
    from apgraph.store.audit import AuditRepository
    from apgraph.store.database import create_engine

    engine = create_engine(f"sqlite+aiosqlite:///{data_dir / 'apgraph.db'}")
    try:
        return [e async for e in AuditRepository(engine).in_order() if e.event.action == action]
    finally:
        await engine.dispose()
