"""Importing a master-data bundle: checked as a whole against what is stored, then written in
one transaction or not at all; on SQLite and PostgreSQL."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.domain.bundle import BundleCode, BundleProblem, MasterDataBundle
from apgraph.domain.ids import SupplierId
from apgraph.services.bundles import read_csv_files_result, read_json, write_json
from apgraph.services.onboarding import import_bundle
from apgraph.store import migrate
from apgraph.store.audit import AuditRepository
from apgraph.store.master_data_io import SqlMasterData, read_bundle
from tests.bundles import bundle_of, bundles
from tests.databases import drop_database, make_database
from tests.keys import keyring_for
from tests.services.bundles.examples import CSV_TEXT, csv_files

ACTOR = "cli:onboarding"


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


class RecordingSink:
    """Notes each bundle it is told of, and whether the database already held it then."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.loaded: list[MasterDataBundle] = []
        self.committed_when_told: list[bool] = []

    async def load(self, bundle: MasterDataBundle) -> None:
        self.loaded.append(bundle)
        self.committed_when_told.append(
            await read_bundle(self.engine, await keyring_for(self.engine)) == bundle
        )


@pytest.fixture(scope="module")
def bundle(tiny_network: generator.DemoNetwork) -> MasterDataBundle:
    return bundle_of(tiny_network)


@pytest.fixture(scope="module")
def tiny_network() -> generator.DemoNetwork:
    return generator.generate(
        generator.DemoSize(facilities=2, suppliers=10, purchase_orders=40, invoices=60)
    )


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    database = await make_database(request.param, tmp_path)
    engine = database.engine()
    try:
        await migrate.upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        await drop_database(database)


async def _import(engine, bundle, **options):
    return await import_bundle(
        bundle,
        store=SqlMasterData(engine, await keyring_for(engine)),
        actor=ACTOR,
        clock=FixedClock(),
        **options,
    )


async def _import_csv(engine, files: dict[str, bytes], **options):
    """As the CLI and the API import a source: read, then read again with what is stored."""
    read = read_csv_files_result(files)
    return await _import(
        engine,
        read.bundle,
        problems=read.problems,
        partial=read.partial,
        locate=lambda known: read_csv_files_result(files, known=known).problems,
        **options,
    )


RECEIPTS_HEADER = CSV_TEXT["goods_receipts.csv"].splitlines()[0]


async def test_a_bad_row_does_not_hide_another_rows_unknown_reference(engine):
    # given receipts: one with a negative quantity, one on a PO neither bundled nor stored
    files = csv_files(
        goods_receipts=f"""\
{RECEIPTS_HEADER}
GR-00000001,PO-2026-000001,1,-8,2026-01-10T13:17:45Z
GR-00000002,PO-2026-000777,1,40,2026-01-11T09:00:00-05:00
"""
    )

    # when the bundle is imported
    report = await _import_csv(engine, files)

    # then both are reported, each once, by file and row; nothing is written
    assert [(p.file, p.location, p.field, p.code) for p in report.problems] == [
        ("goods_receipts.csv", "row 2", "quantity", BundleCode.NEGATIVE_QUANTITY),
        ("goods_receipts.csv", "row 3", "purchase_order_id", BundleCode.UNKNOWN_REFERENCE),
    ]
    assert await read_bundle(engine, await keyring_for(engine)) == MasterDataBundle()


async def test_a_reference_to_stored_data_is_no_problem_beside_a_bad_row(engine):
    # given the example bundle already stored
    assert (await _import_csv(engine, csv_files())).applied

    # when receipts arrive alone: one bad, one on a stored line, one on a line nowhere
    receipts = f"""\
{RECEIPTS_HEADER}
GR-00000010,PO-2026-000001,2,-1,2026-02-10T13:17:45Z
GR-00000011,PO-2026-000001,2,12.5,2026-02-10T13:17:45Z
GR-00000012,PO-2026-000002,9,1,2026-02-11T09:00:00Z
"""
    report = await _import_csv(engine, {"goods_receipts.csv": receipts.encode()})

    # then the stored line satisfies its receipt; the bad row and the missing line are reported
    assert [(p.location, p.field, p.code) for p in report.problems] == [
        ("row 2", "quantity", BundleCode.NEGATIVE_QUANTITY),
        ("row 4", "line_no", BundleCode.UNKNOWN_REFERENCE),
    ]


async def test_a_valid_bundle_is_imported_and_the_sinks_hear_of_it_after_the_commit(engine, bundle):
    # given an empty database and a sink
    sink = RecordingSink(engine)

    # when the bundle is imported
    report = await _import(engine, bundle, sinks=[sink])

    # then it is applied, every row created, and the sink told once the rows were stored
    assert report.applied
    assert report.counts == bundle.counts()
    assert report.created == bundle.counts()
    assert sink.loaded == [bundle]
    assert sink.committed_when_told == [True]


async def test_reimporting_a_bundle_changes_nothing(engine, bundle):
    await _import(engine, bundle)
    head = await AuditRepository(engine).head()

    report = await _import(engine, bundle)

    assert report.applied
    assert report.unchanged == bundle.counts()
    assert set(report.created.values()) | set(report.updated.values()) == {0}
    assert await AuditRepository(engine).head() == head


async def test_an_unknown_reference_refuses_the_whole_bundle_and_writes_nothing(engine, bundle):
    # given a bundle whose first PO names a supplier that exists nowhere
    first = bundle.purchase_orders[0]
    stranger = replace(first, order=replace(first.order, supplier_id=SupplierId("SUP-999999")))
    broken = replace(bundle, purchase_orders=(stranger, *bundle.purchase_orders[1:]))
    sink = RecordingSink(engine)
    head = await AuditRepository(engine).head()

    # when it is imported
    report = await _import(engine, broken, sinks=[sink])

    # then it is refused with the reason, and nothing is stored, audited or told
    assert not report.valid
    assert not report.applied
    assert [(p.field, p.code) for p in report.problems] == [
        ("supplier_id", BundleCode.UNKNOWN_REFERENCE)
    ]
    assert report.created == {}
    assert await read_bundle(engine, await keyring_for(engine)) == MasterDataBundle()
    assert await AuditRepository(engine).head() == head
    assert sink.loaded == []


async def test_problems_found_while_reading_refuse_the_bundle(engine, bundle):
    problem = BundleProblem(
        "bundle.json", "/suppliers/0", "tax_id", BundleCode.REQUIRED, "is required"
    )

    report = await _import(engine, bundle, problems=[problem])

    assert report.problems == (problem,)
    assert await read_bundle(engine, await keyring_for(engine)) == MasterDataBundle()


async def test_an_unreadable_bundle_is_reported_with_no_counts(engine):
    problem = BundleProblem("bundle.json", "/", None, BundleCode.MALFORMED, "not JSON")

    report = await _import(engine, None, problems=[problem])

    assert report.problems == (problem,)
    assert report.counts == {}


async def test_a_dry_run_reports_the_counts_and_writes_nothing(engine, bundle):
    # given an empty database and a sink
    sink = RecordingSink(engine)
    head = await AuditRepository(engine).head()

    # when the bundle is imported as a dry run
    report = await _import(engine, bundle, sinks=[sink], dry_run=True)

    # then it is valid, counted as it would be written, and not applied; nothing is stored
    # (audit trail included) or told
    assert report.valid
    assert not report.applied
    assert report.counts == bundle.counts()
    assert report.created == bundle.counts()
    assert set(report.updated.values()) == {0}
    assert await read_bundle(engine, await keyring_for(engine)) == MasterDataBundle()
    assert sink.loaded == []
    assert await AuditRepository(engine).head() == head


async def test_a_dry_run_over_what_is_stored_tells_what_would_change(engine, bundle):
    # given the bundle imported, then one supplier renamed in a second version of it
    await _import(engine, bundle)
    renamed = replace(
        bundle,
        suppliers=(
            replace(
                bundle.suppliers[0],
                supplier=replace(bundle.suppliers[0].supplier, legal_name="Renamed Medical, Inc."),
            ),
            *bundle.suppliers[1:],
        ),
    )

    # when the second version is imported as a dry run
    report = await _import(engine, renamed, dry_run=True)

    # then it names the one update and the rows left as they are, and stores nothing of it
    assert report.updated["suppliers"] == 1
    assert report.unchanged["suppliers"] == len(bundle.suppliers) - 1
    assert set(report.created.values()) == {0}
    stored = (await read_bundle(engine, await keyring_for(engine))).suppliers[0].supplier
    assert stored.legal_name == bundle.suppliers[0].supplier.legal_name


async def test_a_bundle_may_refer_to_what_is_already_stored(engine, bundle):
    # given the suppliers, facilities and cost centers imported earlier
    await _import(engine, replace(bundle, purchase_orders=(), goods_receipts=()))

    # when the POs and receipts arrive alone
    report = await _import(
        engine,
        MasterDataBundle(
            purchase_orders=bundle.purchase_orders, goods_receipts=bundle.goods_receipts
        ),
    )

    # then they are valid and imported
    assert report.applied, [p.line() for p in report.problems]
    assert report.created["purchase_orders"] == len(bundle.purchase_orders)
    assert await read_bundle(engine, await keyring_for(engine)) == bundle


async def test_progress_hears_every_row(engine, bundle):
    heard: list[int] = []

    await _import(engine, bundle, progress=heard.append)

    assert heard == sorted(heard)
    assert heard[-1] == sum(bundle.counts().values())


async def test_a_facility_export_imports_into_an_empty_database_on_its_own(engine, tmp_path):
    # given a database holding three facilities
    (tmp_path / "source").mkdir()
    source = await make_database("sqlite", tmp_path / "source")
    source_engine = source.engine()
    await migrate.upgrade(source_engine)
    network = generator.generate(
        generator.DemoSize(facilities=3, suppliers=10, purchase_orders=60, invoices=60)
    )
    await demo_writer.write(source_engine, network, keyring=await keyring_for(source_engine))

    # when FAC-0002 is exported and imported into the empty database
    exported = await read_bundle(
        source_engine, await keyring_for(source_engine), facilities=["FAC-0002"]
    )
    await source_engine.dispose()
    report = await _import(engine, read_json(write_json(exported))[0])

    # then it is valid on its own, and the database holds exactly that facility's data
    assert report.applied, [p.line() for p in report.problems]
    assert await read_bundle(engine, await keyring_for(engine)) == exported


@pytest.fixture(scope="module")
def round_trip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("round-trip")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bundle=bundles())
async def test_export_then_import_round_trips_to_identical_data(bundle, round_trip_dir):
    # given a generated bundle imported into a fresh database
    first = await _fresh_sqlite(round_trip_dir)
    second = await _fresh_sqlite(round_trip_dir)  # one after the other: alembic is not reentrant
    try:
        imported = await _import(first, bundle)
        assert imported.applied, [p.line() for p in imported.problems]

        # when it is exported to JSON and that file imported into another fresh database
        exported = await read_bundle(first, await keyring_for(first))
        parsed, problems = read_json(write_json(exported))
        assert problems == []
        again = await _import(second, parsed)

        # then both databases hold the bundle as it was
        assert again.applied, [p.line() for p in again.problems]
        assert await read_bundle(second, await keyring_for(second)) == exported == bundle
    finally:
        await first.dispose()
        await second.dispose()


_databases = iter(range(1, 10**6))


async def _fresh_sqlite(directory: Path) -> AsyncEngine:
    path = directory / f"db-{next(_databases)}"
    path.mkdir()
    database = await make_database("sqlite", path)
    engine = database.engine()
    await migrate.upgrade(engine)
    return engine
