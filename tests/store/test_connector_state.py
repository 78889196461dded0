"""The ERP posting ledger: every attempt under one key is counted, the first one known."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select

from apgraph.domain.invoices import Invoice
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import PostingState
from apgraph.store.connector_state import SqlPostingLedger
from apgraph.store.database import counting_statements
from apgraph.store.tables import ErpPostingRow

AT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


async def test_attempts_at_once_under_one_key_find_one_first_attempt(engine, tiny_network):
    # given a posting nobody has attempted yet
    ledger = SqlPostingLedger(engine)
    invoice = tiny_network.invoices[0]

    # when eight attempts begin at the same moment (a retry racing a dead-letter replay)
    befores = await asyncio.gather(
        *(
            ledger.begin(
                system=ExternalSystem.LEGACY_ERP, idempotency_key="sub-race", invoice=invoice, at=AT
            )
            for _ in range(8)
        )
    )

    # then exactly one is the first, none fails on the unique key, and all are counted
    assert befores.count(None) == 1
    assert set(befores) - {None} == {PostingState.SENT}
    assert await ledger.state_of(ExternalSystem.LEGACY_ERP, "sub-race") is PostingState.SENT
    async with engine.connect() as connection:
        attempts = await connection.scalar(
            select(ErpPostingRow.attempts).where(ErpPostingRow.idempotency_key == "sub-race")
        )
    assert attempts == 8


async def test_every_posting_sends_the_ledgers_statements_built_once(engine, tiny_network):
    """A posting marks itself SENT and then settles: two statements on every ERP call, so
    building them (and their cache keys) anew each time was CPU spent on every submission."""
    # given a ledger that has recorded one posting already
    ledger = SqlPostingLedger(engine)
    first, second = tiny_network.invoices[0], tiny_network.invoices[1]

    async def post(invoice: Invoice, key: str) -> tuple[list[object], list[str]]:
        """The statement objects SQLAlchemy executed, and the SQL of every statement sent
        (through SQLAlchemy, or on the driver as PostgreSQL's are)."""
        executed: list[object] = []

        def keep(_connection: Any, statement: object, *_: Any) -> None:
            executed.append(statement)

        event.listen(engine.sync_engine, "before_execute", keep)
        try:
            with counting_statements(keeping_sql=True) as counted:
                await ledger.begin(
                    system=ExternalSystem.LEGACY_ERP, idempotency_key=key, invoice=invoice, at=AT
                )
                await ledger.settle(
                    system=ExternalSystem.LEGACY_ERP,
                    idempotency_key=key,
                    state=PostingState.POSTED,
                    document_number=f"DOC-{key}",
                    error=None,
                    at=AT,
                )
        finally:
            event.remove(engine.sync_engine, "before_execute", keep)
        return executed, counted.sent or []

    earlier, earlier_sql = await post(first, "sub-kept-1")

    # when another invoice posts under another key
    later, later_sql = await post(second, "sub-kept-2")

    # then it sends the very statements the first did, two of them, with its own values:
    # kept statement objects through SQLAlchemy (SQLite), or past it on the driver the same
    # SQL, prepared once per connection (PostgreSQL)
    assert len(later_sql) == 2
    assert later_sql == earlier_sql
    assert len(later) == (0 if engine.dialect.name == "postgresql" else 2)
    assert all(a is b for a, b in zip(earlier, later, strict=True))
    assert await ledger.state_of(ExternalSystem.LEGACY_ERP, "sub-kept-2") is PostingState.POSTED
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(ErpPostingRow).where(ErpPostingRow.idempotency_key == "sub-kept-2")
            )
        ).one()
    assert (row.invoice_id, row.document_ref, row.attempts) == (second.id, "DOC-sub-kept-2", 1)


async def test_a_second_attempt_is_counted_and_learns_the_state_before(engine, tiny_network):
    # given a posting whose answer was lost: SENT, never settled
    ledger = SqlPostingLedger(engine)
    invoice = tiny_network.invoices[0]
    begin = {"system": ExternalSystem.LEGACY_ERP, "idempotency_key": "sub-lost", "at": AT}
    assert await ledger.begin(invoice=invoice, **begin) is None

    # when it is attempted again, after it was refused, and once more
    again = await ledger.begin(invoice=invoice, **begin)
    await ledger.settle(
        system=ExternalSystem.LEGACY_ERP,
        idempotency_key="sub-lost",
        state=PostingState.REJECTED,
        document_number=None,
        error="no such vendor",
        at=AT,
    )
    third = await ledger.begin(invoice=invoice, **begin)

    # then each attempt sees how the one before ended, and all three are counted
    assert (again, third) == (PostingState.SENT, PostingState.REJECTED)
    async with engine.connect() as connection:
        attempts = await connection.scalar(
            select(ErpPostingRow.attempts).where(ErpPostingRow.idempotency_key == "sub-lost")
        )
    assert attempts == 3
