"""The migration that stores the ERPs by their system names: rows written before it read the
same after it, on both backends, and a downgrade restores what was there."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from apgraph.domain.systems import ExternalSystem
from apgraph.store import migrate
from tests.databases import drop_database, make_database

AT = datetime(2026, 12, 1, tzinfo=UTC)
ROWS = {
    "facilities": "SELECT id, erp_system FROM facilities ORDER BY id",
    "erp_cross_references": "SELECT canonical_id, system FROM erp_cross_references ORDER BY 1",
    "erp_postings": "SELECT idempotency_key, system FROM erp_postings ORDER BY 1",
}


def _revision() -> tuple[str, str]:
    """(this migration, the one before it), whatever number it has when it lands."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    (script,) = (
        s for s in scripts.walk_revisions() if s.path.endswith("_external_system_names.py")
    )
    assert isinstance(script.down_revision, str)
    return script.revision, script.down_revision


async def _stored(connection) -> dict[str, list[tuple[str, str]]]:
    return {
        table: [tuple(row) for row in await connection.execute(text(query))]
        for table, query in ROWS.items()
    }


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_stored_erp_names_become_system_names_and_back(backend: str, tmp_path: Path):
    # given a database one migration short, holding rows that name both ERPs the old way
    revision, before = _revision()
    database = await make_database(backend, tmp_path)
    engine = database.engine()
    try:
        await migrate.upgrade(engine, before)
        async with engine.begin() as connection:
            for facility, erp in (("FAC-0001", "legacy"), ("FAC-0004", "cloud")):
                await connection.execute(
                    text(
                        "INSERT INTO facilities (id, name, region, timezone, erp_system,"
                        " migration_mode) VALUES (:id, 'F', 'R', 'UTC', :erp, :erp)"
                    ),
                    {"id": facility, "erp": erp},
                )
                await connection.execute(  # a row that refers to the facility
                    text(
                        "INSERT INTO cost_centers (id, facility_id, code, name, active,"
                        " approvers) VALUES (:cc, :id, 'C', 'C', true, '[]')"
                    ),
                    {"cc": f"CC-{facility}", "id": facility},
                )
                await connection.execute(
                    text(
                        "INSERT INTO erp_cross_references (system, entity, canonical_id,"
                        " vendor_key, synced_at) VALUES (:erp, 'supplier', :id, 'V1', :at)"
                    ),
                    {"erp": erp, "id": f"SUP-{facility}", "at": AT},
                )
                await connection.execute(
                    text(
                        "INSERT INTO erp_postings (system, idempotency_key, invoice_id,"
                        " facility_id, state, attempts, updated_at)"
                        " VALUES (:erp, :key, 'INV-1', :id, 'SENT', 1, :at)"
                    ),
                    {"erp": erp, "key": f"key-{facility}", "id": facility, "at": AT},
                )

        # when the migration runs
        await migrate.upgrade(engine, revision)

        # then every row names its ERP as the one enum does, and a new facility defaults to
        # the legacy ERP by that name too
        async with engine.begin() as connection:
            after = await _stored(connection)
            await connection.execute(
                text(
                    "INSERT INTO facilities (id, name, region, timezone, migration_mode)"
                    " VALUES ('FAC-0009', 'F', 'R', 'UTC', 'legacy')"
                )
            )
            default = (
                await connection.execute(
                    text("SELECT erp_system FROM facilities WHERE id = 'FAC-0009'")
                )
            ).scalar_one()
            await connection.execute(text("DELETE FROM facilities WHERE id = 'FAC-0009'"))
        legacy, cloud = ExternalSystem.LEGACY_ERP.value, ExternalSystem.CLOUD_ERP.value
        assert after == {
            "facilities": [("FAC-0001", legacy), ("FAC-0004", cloud)],
            "erp_cross_references": [("SUP-FAC-0001", legacy), ("SUP-FAC-0004", cloud)],
            "erp_postings": [("key-FAC-0001", legacy), ("key-FAC-0004", cloud)],
        }
        assert default == legacy

        # and a downgrade restores the old names
        async with engine.begin() as connection:
            await connection.run_sync(
                lambda sync: command.downgrade(migrate.alembic_config(sync), before)
            )
        async with engine.begin() as connection:
            restored = await _stored(connection)
        assert restored == {
            "facilities": [("FAC-0001", "legacy"), ("FAC-0004", "cloud")],
            "erp_cross_references": [("SUP-FAC-0001", "legacy"), ("SUP-FAC-0004", "cloud")],
            "erp_postings": [("key-FAC-0001", "legacy"), ("key-FAC-0004", "cloud")],
        }
    finally:
        await engine.dispose()
        await drop_database(database)
