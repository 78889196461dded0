"""Retention: records past their period are purged in bounded batches, the audit trail stays
verifiable, and an invoice under legal hold keeps everything. Time is a parameter: the
records are aged by running the purge years later, never by waiting."""

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.demo import writer as demo_writer
from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.gateway.retention import run_retention
from apgraph.policies.gateway import GatewayConfig
from apgraph.policies.loader import load_gateway_config
from apgraph.policies.retention import RetentionPolicy
from apgraph.store import audit, migrate
from apgraph.store.holds import LegalHolds
from apgraph.store.tables import (
    AttachmentRow,
    AuditEntryRow,
    IdempotencyKeyRow,
    InvoiceStatusChangeRow,
    ProductUsageRow,
)
from tests.conftest import ROOT
from tests.databases import Database, drop_database, make_database
from tests.keys import TEST_KEK, keyring_for

THEN = datetime(2026, 11, 25, tzinfo=UTC)  # when the records were written
YEARS_LATER = datetime(2034, 6, 1, tzinfo=UTC)  # past 7 years for all of them
SEVEN_YEARS = 2557


def policy(batch_size: int = 3) -> GatewayConfig:
    config = load_gateway_config(ROOT / "gateway.yaml")
    kinds = {
        kind: {"days": SEVEN_YEARS}
        for kind in ("audit_trail", "status_history", "attachments", "outbox_events")
    }
    kinds["idempotency_keys"] = {"days": 30}
    kinds["usage_records"] = {"days": 400}
    retention = RetentionPolicy.model_validate({"kinds": kinds, "batch_size": batch_size})
    return config.model_copy(update={"retention": retention})


async def count(engine, table, *where) -> int:
    async with engine.connect() as connection:
        return int(
            (
                await connection.execute(select(func.count()).select_from(table).where(*where))
            ).scalar_one()
        )


def held_invoice(tiny_network) -> str:
    """An invoice with an attachment: the one a legal matter puts on hold."""
    return tiny_network.attachments[0].invoice_id


async def given_old_records(engine, tiny_network) -> None:
    """Eight audit entries and five idempotency keys written THEN, beside the seed's
    history; none of the entries names the held invoice."""
    others = [i for i in tiny_network.invoices if i.id != held_invoice(tiny_network)]
    events = [
        AuditEvent("dana", "invoice.approve", AuditOutcome.SUCCEEDED, (invoice.id,))
        for invoice in others[:8]
    ]
    async with engine.begin() as connection:
        await audit.append(connection, events, at=THEN)
        await connection.execute(
            insert(IdempotencyKeyRow),
            [
                {
                    "scope": "submit",
                    "key": f"k{n}",
                    "fingerprint": "f",
                    "result_ref": "r",
                    "created_at": THEN,
                }
                for n in range(5)
            ],
        )
        await connection.execute(
            insert(ProductUsageRow),
            [
                {
                    "minute": THEN,
                    "product": "supplier-portal",
                    "version": "v1",
                    "client": f"cli_{n}",
                    "operation": "Invoices",
                    "requests": 3,
                    "errors": 0,
                    "latency_ms_total": 12.5,
                    "latency_ms_max": 9.0,
                }
                for n in range(2)
            ],
        )


async def audit_verify(database: Database) -> tuple[int, str]:
    """`apgraph audit verify` on `database`, as an operator runs it: a process of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APGRAPH_")}
    env |= {"APGRAPH_KEY_ENCRYPTION_KEY": TEST_KEK}
    if database.schema:
        env["APGRAPH_DATABASE_SCHEMA"] = database.schema
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "apgraph.cli",
        "audit",
        "verify",
        "--database-url",
        database.url,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request, tmp_path, tiny_network) -> AsyncIterator[Database]:
    """The tiny network, seeded (its history and attachments dated 2026), plus old records."""
    database = await make_database(request.param, tmp_path)
    engine = database.engine()
    try:
        await migrate.upgrade(engine)
        await demo_writer.write(engine, tiny_network, keyring=await keyring_for(engine))
        await given_old_records(engine, tiny_network)
    finally:
        await engine.dispose()
    yield database
    await drop_database(database)


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = database.engine()
    yield engine
    await engine.dispose()


async def test_a_purge_years_later_keeps_the_held_invoice_and_a_verifiable_trail(
    database, engine, tiny_network
):
    # given an invoice under legal hold, and records written years ago
    held = held_invoice(tiny_network)
    await LegalHolds(engine).place(held, reason="Matter 2031-17", by="legal", at=THEN)
    history, attachments = InvoiceStatusChangeRow.__table__, AttachmentRow.__table__
    held_history = await count(engine, history, history.c.invoice_id == held)
    held_attachments = await count(engine, attachments, attachments.c.invoice_id == held)
    assert held_history > 0
    assert held_attachments > 0

    # when retention runs years later, three rows per transaction
    purged = await run_retention(
        engine, await keyring_for(engine), policy(), now=YEARS_LATER, dry_run=False, actor="t"
    )

    # then what is past its period is gone, but for the held invoice's records
    counts = {p.kind: p.count for p in purged}
    assert counts["status_history"] > 0
    assert counts["attachments"] > 0
    assert counts["idempotency_keys"] == 5
    assert counts["usage_records"] == 2
    assert await count(engine, history) == held_history
    assert await count(engine, attachments) == held_attachments
    # and the audit trail lost the eight old entries, not the one placing the hold
    assert counts["audit_trail"] == 8
    # and `apgraph audit verify` still finds the chain intact, from the checkpoints
    code, output = await audit_verify(database)
    assert code == 0, output
    assert "audit trail intact" in output
    # and each purge is audited with its count and time range
    log = AuditEntryRow.__table__
    async with engine.connect() as connection:
        found = await connection.execute(
            select(log.c.detail).where(log.c.action == "retention.purged")
        )
        details = [json.loads(detail) for detail in found.scalars()]
    assert {d["kind"]: d["count"] for d in details} == {k: n for k, n in counts.items() if n}
    assert all(d["oldest"] and d["newest"] for d in details)


async def test_a_deletion_outside_a_purge_still_breaks_the_verified_chain(database, engine):
    # given a purged trail
    await run_retention(
        engine, await keyring_for(engine), policy(), now=YEARS_LATER, dry_run=False, actor="t"
    )
    log = AuditEntryRow.__table__
    async with engine.begin() as connection:
        first = (await connection.execute(select(func.min(log.c.sequence)))).scalar_one()
        # when someone deletes the first entry the purge kept
        await connection.execute(log.delete().where(log.c.sequence == first))

    # then verification names the gap
    code, output = await audit_verify(database)
    assert code == 1
    assert "no checkpoint covers them" in output


async def test_a_dry_run_counts_and_deletes_nothing(engine):
    before = await count(engine, AuditEntryRow.__table__)

    purged = await run_retention(
        engine, await keyring_for(engine), policy(), now=YEARS_LATER, dry_run=True, actor="t"
    )

    assert {p.kind: p.count for p in purged}["audit_trail"] == 8
    assert await count(engine, AuditEntryRow.__table__) == before
    assert await count(engine, IdempotencyKeyRow.__table__) == 5


async def test_records_within_their_period_stay(engine):
    purged = await run_retention(
        engine, await keyring_for(engine), policy(), now=THEN, dry_run=False, actor="t"
    )

    assert [p.count for p in purged] == [0] * len(purged)
