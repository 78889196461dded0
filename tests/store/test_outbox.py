"""The outbox: envelopes in sequence order for the relay, marked once, replayable from a cursor,
with payloads that give back every event exactly (amounts as strings, never floats).
"""

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import ClassVar

import pytest

from apgraph.domain.event_payloads import EVENT_TYPES, from_payload, to_payload
from apgraph.domain.events import (
    Event,
    InvoiceApprovalCompleted,
    InvoiceMatchFailed,
    InvoicePosted,
    InvoicePostingFailed,
    InvoiceReceived,
    InvoiceRejected,
    InvoiceValidated,
    PaymentReleased,
    PaymentScheduled,
    RemittanceSent,
)
from apgraph.domain.ids import FacilityId, InvoiceId, PaymentId, SupplierId
from apgraph.store.database import counting_statements
from apgraph.store.outbox import OutboxRepository
from apgraph.store.unit_of_work import SqlUnitOfWork
from tests.store.test_reading import TRANSACTION, commands_sent

AT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
SUBJECT = (InvoiceId("INV-00000001"), SupplierId("SUP-000001"), FacilityId("FAC-0001"), AT)
PAY = PaymentId("PAY-00000001")

ONE_OF_EACH: list[Event] = [
    InvoiceReceived(*SUBJECT, supplier_invoice_number="A-1"),
    InvoiceValidated(*SUBJECT),
    InvoiceRejected(*SUBJECT, codes=("TAX_MISMATCH", "PO_CLOSED"), reason=None, rejected_by="v"),
    InvoiceMatchFailed(*SUBJECT, codes=("QTY_VARIANCE",)),
    InvoiceApprovalCompleted(*SUBJECT, approvers=("dana", "lee")),
    InvoicePosted(*SUBJECT, erp_document_ref="LEG-5100001"),
    InvoicePostingFailed(*SUBJECT, reason="ERP_UNAVAILABLE"),
    PaymentScheduled(*SUBJECT, payment_id=PAY, scheduled_date=date(2026, 12, 4)),
    PaymentReleased(*SUBJECT, payment_id=PAY),
    RemittanceSent(*SUBJECT, payment_id=PAY, remittance_ref="ACH-1"),
]


@dataclass(frozen=True, slots=True)
class AmountBilled(Event):
    """No released event carries an amount yet; the payload mapping must be ready when one does."""

    type: ClassVar[str] = "test.amount_billed"

    amount: Decimal
    tax: Decimal | None


async def written(engine, events, *, trace_id=None) -> None:
    async with SqlUnitOfWork(engine, trace_id=trace_id) as uow:
        await uow.outbox.add(events)
        await uow.commit()


def event_of(record, event_type=None):
    return from_payload(
        event_type or EVENT_TYPES[record.type],
        record.payload,
        invoice_id=record.invoice_id,
        supplier_id=record.supplier_id,
        facility_id=record.facility_id,
        occurred_at=record.occurred_at,
    )


async def test_every_event_type_comes_back_from_the_outbox_exactly(engine):
    # given one event of each type, written in one unit of work
    await written(engine, ONE_OF_EACH, trace_id="trace-7")

    # when they are read back in sequence order
    records = await OutboxRepository(engine).after(0, 100)

    # then each envelope is complete, with a versioned payload that gives the event back
    assert [event_of(r) for r in records] == ONE_OF_EACH
    assert [r.sequence for r in records] == list(range(1, 11))
    assert len({r.id for r in records}) == 10
    assert {(r.trace_id, r.payload["version"], r.published_at) for r in records} == {
        ("trace-7", 1, None)
    }


async def test_the_head_is_the_last_sequence_written(engine):
    # given an empty outbox
    outbox = OutboxRepository(engine)
    assert await outbox.head() == 0

    # when two units of work write events
    await written(engine, ONE_OF_EACH[:3])
    await written(engine, ONE_OF_EACH[3:5])

    # then the head is the last sequence written, every time it is asked
    assert await outbox.head() == 5
    assert await outbox.head() == 5


@pytest.mark.parametrize(
    "amount", ["0.30", "0.10", "12345678901234.5678", "-7.05", "100", "0.0000"]
)
async def test_amounts_travel_as_strings_and_come_back_exact(engine, amount):
    event = AmountBilled(*SUBJECT, amount=Decimal(amount), tax=None)
    await written(engine, [event])

    (record,) = await OutboxRepository(engine).after(0, 10)

    assert record.payload["amount"] == amount
    assert event_of(record, AmountBilled) == event


def test_a_float_never_becomes_a_payload():
    with pytest.raises(TypeError, match="float"):
        to_payload(AmountBilled(*SUBJECT, amount=0.3, tax=None))  # type: ignore[arg-type]


async def test_pending_lists_unpublished_records_in_sequence_order(engine):
    outbox = OutboxRepository(engine)
    await written(engine, ONE_OF_EACH[:3])
    await written(engine, ONE_OF_EACH[3:6])

    first_two = await outbox.pending(2)
    await outbox.mark_published([r.id for r in first_two], at=AT)

    assert [r.sequence for r in first_two] == [1, 2]
    assert [r.sequence for r in await outbox.pending(10)] == [3, 4, 5, 6]


async def test_marking_again_keeps_the_first_publication_time(engine):
    outbox = OutboxRepository(engine)
    await written(engine, ONE_OF_EACH[:1])
    (record,) = await outbox.pending(10)

    await outbox.mark_published([record.id], at=AT)
    await outbox.mark_published([record.id], at=AT + timedelta(minutes=5))

    (published,) = await outbox.after(0, 10)
    assert published.published_at == AT
    assert await outbox.pending(10) == []


async def test_pending_gives_every_event_back_exactly(engine):
    # given one event of each type, not published yet
    await written(engine, ONE_OF_EACH, trace_id="trace-8")

    # when the relay asks for what is pending (on the driver on PostgreSQL)
    records = await OutboxRepository(engine).pending(100)

    # then each comes back whole, its payload decoded
    assert [event_of(r) for r in records] == ONE_OF_EACH
    assert {(r.trace_id, r.published_at) for r in records} == {("trace-8", None)}


async def test_marking_published_on_postgresql_is_one_statement_without_a_transaction(
    seeded_postgres,
):
    """The relay marks what it published after every commit that wrote events: a single
    UPDATE is atomic on its own, so BEGIN and COMMIT were two round trips of its three."""
    engine = seeded_postgres
    outbox = OutboxRepository(engine)
    await written(engine, ONE_OF_EACH[:2])
    records = await outbox.pending(10)
    await engine.dispose()  # connections opened from here on carry the logger
    sent = commands_sent(engine)

    # when the relay marks them published
    with counting_statements() as counted:
        await outbox.mark_published([r.id for r in records], at=AT)
    await asyncio.sleep(0)  # asyncpg hands logged queries to the loop with call_soon

    # then that was one statement, with no transaction command around it
    assert counted.statements == 1
    assert [q for q in sent if q.rstrip(";").split()[0].upper() in TRANSACTION] == []
    assert {r.published_at for r in await outbox.by_ids([r.id for r in records])} == {AT}


async def test_after_replays_from_a_cursor_published_or_not(engine):
    outbox = OutboxRepository(engine)
    await written(engine, ONE_OF_EACH)
    await outbox.mark_published([r.id for r in await outbox.pending(5)], at=AT)

    replayed = await outbox.after(3, 4)

    assert [r.sequence for r in replayed] == [4, 5, 6, 7]
    assert [r.published_at for r in replayed] == [AT, AT, None, None]


async def test_events_of_a_rolled_back_unit_of_work_take_no_sequence(engine):
    async with SqlUnitOfWork(engine) as uow:
        await uow.outbox.add(ONE_OF_EACH[:2])  # and no commit
    await written(engine, ONE_OF_EACH[2:3])

    assert [r.sequence for r in await OutboxRepository(engine).after(0, 10)] == [1]


async def test_a_unit_of_work_of_thousands_of_events_numbers_them_without_a_gap(engine):
    """On PostgreSQL events are claimed and inserted in one statement however many there are
    (one array per field: a payment confirming thousands of invoices stays far from the
    bind-parameter limit); they are numbered in the order given, after those already written."""
    many = [InvoiceReceived(*SUBJECT, supplier_invoice_number=f"N-{n}") for n in range(6000)]
    await written(engine, ONE_OF_EACH[:1])
    await written(engine, many[:1000])
    await written(engine, many[1000:])

    records = await OutboxRepository(engine).after(0, 7000)

    assert [r.sequence for r in records] == list(range(1, 6002))
    numbers = [r.payload["supplier_invoice_number"] for r in records[1:]]
    assert numbers == [f"N-{n}" for n in range(6000)]


async def test_the_relays_batch_is_read_from_the_pending_events_alone(postgres_engine):
    """The relay asks for its next batch after every commit that wrote events. Through an
    index of `published_at`, PostgreSQL read an entry for every event relayed since the last
    VACUUM (41,000 of them: 4–5 ms a run); migration 0017 indexes the pending ones in order."""
    engine = postgres_engine
    outbox = OutboxRepository(engine)
    # given a history of published events, nothing vacuumed since, and three pending
    for _ in range(20):
        await written(engine, ONE_OF_EACH)
        await outbox.mark_published([r.id for r in await outbox.pending(100)], at=AT)
    await written(engine, ONE_OF_EACH[:3])
    async with engine.begin() as connection:
        await connection.exec_driver_sql("ANALYZE outbox")

    # when the relay asks for its next batch
    with counting_statements(keeping_sql=True) as counted:
        batch = await outbox.pending(200)
    (statement,) = counted.sent or ()

    # then it gets the three, and its statement reads them in order from the pending index
    assert [r.sequence for r in batch] == [201, 202, 203]
    async with engine.connect() as connection:
        driver = await connection.get_raw_connection()
        plan = json.dumps(
            await driver.driver_connection.fetchval(  # type: ignore[union-attr]
                f"EXPLAIN (FORMAT JSON) {statement}", 200
            )
        )
    assert "ix_outbox_pending" in plan
    assert '"Sort"' not in plan
    assert "Bitmap" not in plan
