"""The audit trail in the database: chained on append, concurrent appends never fork it,
and `apgraph audit verify` finds an edited, a deleted and an inserted row.
"""

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update

from apgraph.domain.audit import GENESIS_HASH, AuditEvent, AuditOutcome, chained, first_break
from apgraph.store import migrate
from apgraph.store.audit import AuditRepository, append
from apgraph.store.tables import AuditEntryRow
from tests.databases import drop_database, make_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request, tmp_path):
    database = await make_database(request.param, tmp_path)
    engine = database.engine()
    await migrate.upgrade(engine)
    yield database, engine
    await engine.dispose()
    await drop_database(database)


def event(n):
    return AuditEvent(f"user{n}", "invoice.approve", AuditOutcome.SUCCEEDED, (f"INV-{n:08d}",))


async def verify(audit):
    entries = [entry async for entry in audit.in_order()]
    return len(entries), first_break(entries, head=await audit.head())


async def test_appended_entries_form_an_intact_chain(database):
    _, engine = database
    audit = AuditRepository(engine)
    for n in range(1, 6):
        await audit.record([event(n)], at=datetime.now(UTC))
    assert await verify(audit) == (5, None)


async def test_concurrent_appends_never_fork_the_chain(database):
    _, engine = database
    audit = AuditRepository(engine)
    await asyncio.gather(*(audit.record([event(n)], at=datetime.now(UTC)) for n in range(20)))
    count, broken = await verify(audit)
    assert (count, broken) == (20, None)


async def test_an_append_rolled_back_with_its_transaction_leaves_no_trace(database):
    _, engine = database
    audit = AuditRepository(engine)
    await audit.record([event(1)], at=datetime.now(UTC))

    async def change_that_fails():
        async with engine.begin() as connection:
            await append(connection, [event(2)], at=datetime.now(UTC))
            raise RuntimeError("the change it recorded failed")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    assert await verify(audit) == (1, None)


async def tampered(engine, how):
    audit = AuditRepository(engine)
    for n in range(1, 6):
        await audit.record([event(n)], at=datetime.now(UTC))
    async with engine.begin() as connection:
        await how(connection)
    return (await verify(audit))[1]


async def test_an_edited_row_is_found(database):
    _, engine = database

    async def edit(connection):
        await connection.execute(
            update(AuditEntryRow).where(AuditEntryRow.sequence == 3).values(subject="mallory")
        )

    broken = await tampered(engine, edit)
    assert (broken.sequence, "edited" in broken.reason) == (3, True)


async def test_a_deleted_row_is_found(database):
    _, engine = database

    async def remove(connection):
        await connection.execute(delete(AuditEntryRow).where(AuditEntryRow.sequence == 2))

    assert (await tampered(engine, remove)).sequence == 2


async def test_an_inserted_row_is_found(database):
    _, engine = database

    async def smuggle(connection):
        row = (
            (
                await connection.execute(
                    select(AuditEntryRow.__table__).where(AuditEntryRow.sequence == 5)
                )
            )
            .one()
            ._asdict()
        )
        await connection.execute(insert(AuditEntryRow).values({**row, "sequence": 6}))

    assert (await tampered(engine, smuggle)).sequence == 6


def test_apgraph_audit_verify_names_the_first_broken_entry(tmp_path):
    data = tmp_path / "data"

    def apgraph(*args):
        return subprocess.run(
            [sys.executable, "-m", "apgraph.cli", *args, "--data-dir", str(data)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    async def record_and_edit():
        from apgraph.store.database import create_engine

        engine = create_engine(f"sqlite+aiosqlite:///{data / 'apgraph.db'}")
        audit = AuditRepository(engine)
        for n in range(1, 4):
            await audit.record([event(n)], at=datetime.now(UTC))
        await engine.dispose()

    assert apgraph("audit", "verify").returncode == 0  # creates and migrates an empty store
    asyncio.run(record_and_edit())
    intact = apgraph("audit", "verify")
    assert (intact.returncode, intact.stdout.strip()) == (
        0,
        "apgraph: audit trail intact (3 entries)",
    )

    import sqlite3

    with sqlite3.connect(data / "apgraph.db") as connection:
        connection.execute("UPDATE audit_log SET detail = 'forged' WHERE sequence = 2")
    broken = apgraph("audit", "verify")
    assert broken.returncode == 1
    assert broken.stderr.strip().splitlines()[-1] == (
        "apgraph: audit trail broken at entry 2: its content does not match its hash (edited)"
    )


TRICKY = [
    AuditEvent('mallory "the" \\ user', "invoice.approve", AuditOutcome.DENIED),
    AuditEvent(
        "zoë",
        "field.read",
        AuditOutcome.SUCCEEDED,
        ("INV-00000001", 'SUP-"2\\'),
        client_id="client\n1",
        trace_id="trace\t",
        detail="détail 🧾 \u2028 \x01 '; DROP TABLE audit_log; --",
    ),
    AuditEvent("ops", "retention.purge", AuditOutcome.FAILED, detail=""),
]


async def test_entries_of_any_text_are_chained_to_the_hashes_python_gives(database):
    # given entries with quotes, backslashes, controls and text beyond ASCII, in two appends
    _, engine = database
    at = datetime(2026, 12, 7, 10, 30, 15, 123456, tzinfo=UTC)
    async with engine.begin() as connection:
        await append(connection, TRICKY[:2], at=at)
        await append(connection, TRICKY[2:], at=at)

    # then each is stored as written, with the hash domain/audit.py gives it after the last
    stored = [entry async for entry in AuditRepository(engine).in_order()]
    expected, previous = [], GENESIS_HASH
    for sequence, tricky in enumerate(TRICKY, start=1):
        entry = chained(sequence, at, tricky, previous)
        expected.append((entry.sequence, entry.prev_hash, entry.hash))
        previous = entry.hash
    assert [(e.sequence, e.prev_hash, e.hash) for e in stored] == expected
    assert [e.event for e in stored] == TRICKY
    assert await AuditRepository(engine).head() == (3, previous)
