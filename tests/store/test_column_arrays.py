"""Rows written as column arrays on PostgreSQL come back exactly as written, a value too long
for its column is refused as a plain INSERT would refuse it, and one statement serves any
rows: SQLAlchemy compiles it once."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine.default import CACHE_HIT, NO_CACHE_KEY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.store.column_arrays import array_params, rows_of
from apgraph.store.tables import AuditEntryRow, OutboxRow
from tests.store.conftest import migrated

AT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
AUDIT = AuditEntryRow.__table__
OUTBOX = OutboxRow.__table__
AUDIT_COLUMNS = tuple(column.name for column in AUDIT.c)


def entry(sequence: int, **changes: Any) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "at": AT,
        "subject": "dana",
        "client_id": None,
        "action": "invoice.submit",
        "entity_ids": ["INV-00000001", "SUP-000001"],
        "outcome": "SUCCEEDED",
        "trace_id": None,
        "detail": "POSTED",
        "prev_hash": "0" * 64,
        "hash": f"{sequence:064d}",
        **changes,
    }


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated("postgresql", tmp_path) as engine:
        yield engine


INSERT_ENTRIES = insert(AuditEntryRow).from_select(
    AUDIT_COLUMNS, rows_of(AUDIT, AUDIT_COLUMNS, prefix="entry")
)


def arrays_of(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return array_params(AUDIT, AUDIT_COLUMNS, rows, prefix="entry")


async def test_rows_written_as_column_arrays_read_back_as_written(postgres):
    # given entries with JSON lists (empty too), NULLs, text, and an outbox event's JSON
    rows = [
        entry(1),
        entry(2, entity_ids=[], client_id="erp-sync", trace_id="t" * 32, detail=None),
    ]
    event = {
        "sequence": 1,
        "id": "7b0e4a4e-3c1b-4c55-9d3e-1d7f5c9b2a10",
        "type": "invoice.posted",
        "occurred_at": AT,
        "invoice_id": "INV-00000001",
        "supplier_id": "SUP-000001",
        "facility_id": "FAC-0001",
        "trace_id": None,
        "payload": {"total": "10.20", "codes": ["A", "B"], "note": None},
        "published_at": None,
    }
    names = tuple(event)

    # when they are inserted through column arrays
    async with postgres.begin() as connection:
        await connection.execute(INSERT_ENTRIES, arrays_of(rows))
        await connection.execute(
            insert(OutboxRow).from_select(names, rows_of(OUTBOX, names, prefix="ev")),
            array_params(OUTBOX, names, [event], prefix="ev"),
        )

    # then each reads back field for field
    async with postgres.connect() as connection:
        entries = (await connection.execute(select(AUDIT).order_by(AUDIT.c.sequence))).all()
        events = (await connection.execute(select(OUTBOX))).all()
    assert [row._asdict() for row in entries] == rows
    assert [row._asdict() for row in events] == [event]


async def test_a_value_too_long_for_its_column_is_refused_not_cut_short(postgres):
    too_long = arrays_of([entry(1, subject="x" * 129)])  # subject: VARCHAR(128)
    async with postgres.connect() as connection:
        with pytest.raises(DBAPIError, match="too long"):
            await connection.execute(INSERT_ENTRIES, too_long)


async def test_one_statement_serves_any_number_of_rows_compiled_once(postgres):
    # given one insert statement, executed with one row and then with three
    async with postgres.begin() as connection:
        first = await connection.execute(INSERT_ENTRIES, arrays_of([entry(1)]))
        second = await connection.execute(
            INSERT_ENTRIES, arrays_of([entry(2), entry(3), entry(4, detail=None)])
        )

    # then SQLAlchemy compiled it for the first execution only, and all four rows are there
    assert first.context.cache_hit is not NO_CACHE_KEY
    assert second.context.cache_hit is CACHE_HIT
    async with postgres.connect() as connection:
        stored = (await connection.execute(select(AUDIT.c.sequence))).scalars().all()
    assert sorted(stored) == [1, 2, 3, 4]
