"""The unit of work: all of a change (invoice, lines, history, outbox, audit, key) or none of it;
IDs and sequences that concurrent units of work never share; row locks that lose no update.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.audit import AuditEvent, AuditOutcome, first_break
from apgraph.domain.events import InvoiceReceived
from apgraph.domain.ids import EntityKind, InvoiceId, numbered
from apgraph.domain.invoice_numbers import NumberRules
from apgraph.domain.invoices import (
    Approval,
    ApprovalDecision,
    Invoice,
    InvoiceException,
    InvoiceStatus,
    StatusChange,
)
from apgraph.services.ports.unit_of_work import IdempotencyRecord
from apgraph.store import outbox
from apgraph.store.audit import AuditRepository
from apgraph.store.database import counting_statements
from apgraph.store.outbox import OutboxRepository
from apgraph.store.tables import (
    AuditEntryRow,
    AuditHeadRow,
    CounterRow,
    IdempotencyKeyRow,
    InvoiceApprovalRow,
    InvoiceExceptionRow,
    InvoiceLineRow,
    InvoiceRow,
    InvoiceStatusChangeRow,
    OutboxRow,
)
from apgraph.store.unit_of_work import SqlUnitOfWork
from tests.store.lock_waits import backend_pid, until_blocked_by

AT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
NUMBERS = NumberRules()
WRITTEN = (
    InvoiceRow,
    InvoiceLineRow,
    InvoiceStatusChangeRow,
    InvoiceApprovalRow,
    InvoiceExceptionRow,
    OutboxRow,
    AuditEntryRow,
    IdempotencyKeyRow,
)


def template(network):
    """A seeded invoice on a PO, to copy: its supplier, facility, cost center and lines exist."""
    invoice = next(i for i in network.invoices if i.purchase_order_id is not None)
    lines = [line for owner, line in network.invoice_lines if owner == invoice.id]
    return invoice, lines


def highest_seeded(network) -> int:
    return max(int(invoice.id.removeprefix("INV-")) for invoice in network.invoices)


def received(invoice: Invoice) -> InvoiceReceived:
    return InvoiceReceived(
        invoice.id,
        invoice.supplier_id,
        invoice.facility_id,
        AT,
        supplier_invoice_number=invoice.supplier_invoice_number,
    )


async def submit_everything(uow, network, *, number: str = "T-1") -> InvoiceId:
    """Every kind of write a workflow service makes, in one unit of work."""
    seeded, lines = template(network)
    invoice_id = await uow.invoices.next_id()
    invoice = replace(
        seeded,
        id=invoice_id,
        supplier_invoice_number=number,
        status=InvoiceStatus.RECEIVED,
        received_at=AT,
        erp_document_ref=None,
    )
    await uow.invoices.add(invoice, lines, number=NUMBERS.keyed(number))
    await uow.invoices.add_history(
        [StatusChange(invoice_id, 1, AT, None, InvoiceStatus.RECEIVED, "supplier", None)]
    )
    await uow.invoices.add_approval(
        Approval(invoice_id, "dana", ApprovalDecision.APPROVED, AT, None)
    )
    await uow.invoices.replace_exceptions(
        invoice_id, [InvoiceException("QTY_VARIANCE", 1, "billed 12, received 10")]
    )
    await uow.outbox.add([received(invoice)])
    await uow.audit.add(
        [AuditEvent("supplier", "invoice.submit", AuditOutcome.SUCCEEDED, (invoice_id,))], at=AT
    )
    await uow.idempotency.put(
        "supplier", f"key-{number}", fingerprint="f" * 64, result_ref=invoice_id, at=AT
    )
    return invoice_id


async def rows_about(engine: AsyncEngine, invoice_id: str) -> dict[str, int]:
    """How many rows of each written table concern the invoice."""
    counts = {}
    async with engine.connect() as connection:
        for model in WRITTEN:
            table = model.__table__
            if model is AuditEntryRow:
                where = table.c.subject == "supplier"
            elif model is IdempotencyKeyRow:
                where = table.c.result_ref == invoice_id
            elif model is InvoiceRow:
                where = table.c.id == invoice_id
            else:
                where = table.c.invoice_id == invoice_id
            statement = select(func.count()).select_from(table).where(where)
            counts[table.name] = await connection.scalar(statement)
    return counts


NOTHING = {model.__table__.name: 0 for model in WRITTEN}


async def test_leaving_the_block_without_commit_writes_nothing(seeded, tiny_network):
    # given a unit of work that makes every kind of write
    async with SqlUnitOfWork(seeded) as uow:
        invoice_id = await submit_everything(uow, tiny_network)
        # when it is left without commit (a refusal returned early)

    # then none of it is stored, and the invoice ID is handed out again
    assert await rows_about(seeded, invoice_id) == NOTHING
    async with SqlUnitOfWork(seeded) as uow:
        assert await uow.invoices.next_id() == invoice_id


async def test_an_exception_inside_the_block_writes_nothing(seeded, tiny_network):
    class Refused(Exception):
        pass

    written: list[InvoiceId] = []

    async def change_that_fails() -> None:
        async with SqlUnitOfWork(seeded) as uow:
            written.append(await submit_everything(uow, tiny_network))
            raise Refused

    # when a unit of work fails after every kind of write
    with pytest.raises(Refused):
        await change_that_fails()

    # then the exception propagates and nothing is stored
    assert await rows_about(seeded, written[0]) == NOTHING


async def test_commit_writes_every_part_together(seeded, tiny_network):
    seeded_history = await OutboxRepository(seeded).head()  # the seed's own events
    # when a unit of work makes every kind of write and commits
    async with SqlUnitOfWork(seeded, trace_id="trace-1") as uow:
        invoice_id = await submit_everything(uow, tiny_network)
        await uow.commit()

    # then all of it is stored, the event under the request's trace id
    _, lines = template(tiny_network)
    assert await rows_about(seeded, invoice_id) == {
        **{name: 1 for name in NOTHING},
        "invoice_lines": len(lines),
    }
    (record,) = await OutboxRepository(seeded).after(seeded_history, 10)
    assert (record.type, record.invoice_id, record.trace_id) == (
        "invoice.received",
        invoice_id,
        "trace-1",
    )


async def test_new_invoice_ids_continue_after_the_seeded_ones(seeded, tiny_network):
    async with SqlUnitOfWork(seeded) as uow:
        first = await uow.invoices.next_id()
        second = await uow.invoices.next_id()
    expected = highest_seeded(tiny_network) + 1
    assert (first, second) == (
        numbered(EntityKind.INVOICE, expected),
        numbered(EntityKind.INVOICE, expected + 1),
    )


async def test_concurrent_units_of_work_get_distinct_consecutive_ids_and_sequences(
    seeded, tiny_network
):
    seeded_history = await OutboxRepository(seeded).head()  # the seed's own events

    # given 20 submissions at the same moment
    async def submit(n: int) -> InvoiceId:
        async with SqlUnitOfWork(seeded) as uow:
            invoice_id = await submit_everything(uow, tiny_network, number=f"C-{n}")
            await uow.commit()
        return invoice_id

    # when they run side by side
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(submit(n)) for n in range(20)]

    # then each has its own ID, the next 20 after the seed's, and its own outbox sequence,
    # in the same order as the IDs: sequences follow commit order
    ids = sorted(task.result() for task in tasks)
    start = highest_seeded(tiny_network) + 1
    assert ids == [numbered(EntityKind.INVOICE, start + n) for n in range(20)]
    records = await OutboxRepository(seeded).after(seeded_history, 100)
    assert [r.sequence for r in records] == list(range(seeded_history + 1, seeded_history + 21))
    assert [r.invoice_id for r in records] == ids


async def audit_chain(engine: AsyncEngine) -> tuple[int, object]:
    """The chain's length and its first break (None: intact, up to the head)."""
    audit = AuditRepository(engine)
    entries = [entry async for entry in audit.in_order()]
    return len(entries), first_break(entries, head=await audit.head())


async def write_events_and_audit_of_two_moments(engine: AsyncEngine, n: int) -> InvoiceId:
    """A unit of work with an outbox event and audit entries of two moments (two appends)."""
    async with SqlUnitOfWork(engine) as uow:
        invoice_id = InvoiceId(numbered(EntityKind.INVOICE, 900_000 + n))
        await uow.outbox.add(
            [InvoiceReceived(invoice_id, "SUP-X", "FAC-X", AT, supplier_invoice_number=f"E-{n}")]
        )
        for offset, at in enumerate((AT, AT.replace(minute=31))):
            event = AuditEvent(f"user{n}", "invoice.note", AuditOutcome.SUCCEEDED, (invoice_id,))
            await uow.audit.add([event] * (offset + 1), at=at)
        await uow.commit()
    return invoice_id


async def test_concurrent_commits_of_events_and_audit_keep_one_chain_and_gap_free_sequences(
    seeded,
):
    entries_before, _ = await audit_chain(seeded)
    events_before = await OutboxRepository(seeded).head()

    # given 20 units of work at once, each with an event and audit entries of two moments
    async with asyncio.TaskGroup() as group:
        for n in range(20):
            group.create_task(write_events_and_audit_of_two_moments(seeded, n))

    # then the chain has all 60 entries and no fork, and the events took 20 sequences in a row
    assert await audit_chain(seeded) == (entries_before + 60, None)
    records = await OutboxRepository(seeded).after(events_before, 100)
    assert [r.sequence for r in records] == list(range(events_before + 1, events_before + 21))


async def test_a_commit_without_the_outbox_counter_starts_it_after_the_highest_and_chains_on(
    seeded,
):
    # given a database whose outbox counter row is gone (as `seed --replace` leaves it)
    events_before = await OutboxRepository(seeded).head()
    entries_before, _ = await audit_chain(seeded)
    async with seeded.begin() as connection:
        await connection.execute(delete(CounterRow).where(CounterRow.name == outbox.COUNTER))

    # when a unit of work commits an event and audit entries
    await write_events_and_audit_of_two_moments(seeded, 1)

    # then the event numbers on from the highest on file and the chain stays whole
    records = await OutboxRepository(seeded).after(events_before, 10)
    assert [r.sequence for r in records] == [events_before + 1]
    assert await audit_chain(seeded) == (entries_before + 3, None)


async def test_on_postgresql_a_commit_writes_its_events_and_chains_its_audit_in_one_statement(
    seeded_postgres, tiny_network
):
    # given a unit of work with invoice writes, an outbox event and an audit entry
    async with SqlUnitOfWork(seeded_postgres) as uow:
        await submit_everything(uow, tiny_network)
        # when it commits
        with counting_statements(keeping_sql=True) as counted:
            await uow.commit()

    # then one statement goes before COMMIT, not two: the outbox's, which locks the audit
    # head too (after its own counter), hashes the entries there and moves the head
    assert counted.sent is not None
    (statement,) = counted.sent
    assert "UPDATE counters" in statement
    assert "INSERT INTO outbox" in statement
    assert "EXISTS (SELECT claimed.last_value" in statement  # the head only once the counter is
    assert "INSERT INTO audit_log" in statement
    assert "UPDATE audit_head" in statement
    # and the chain the database hashed is the one Python checks
    _, broken = await audit_chain(seeded_postgres)
    assert broken is None


async def test_the_facts_for_the_rules_come_from_the_stored_invoices(seeded, tiny_network):
    # given a seeded invoice on a PO
    invoice, lines = template(tiny_network)
    of_supplier = [i.id for i in tiny_network.invoices if i.supplier_id == invoice.supplier_id]
    on_order = [
        i for i in tiny_network.invoices if i.purchase_order_id == invoice.purchase_order_id
    ]

    async with SqlUnitOfWork(seeded) as uow:
        # when the duplicate and quantity facts are read, leaving the invoice itself out
        earlier = await uow.invoices.duplicate_candidates(
            invoice.supplier_id,
            number=NUMBERS.keyed("NOT-ON-FILE"),
            currency="XTS",
            total=invoice.total,
            excluding=invoice.id,
        )
        billed = await uow.invoices.billed_per_po_line(
            invoice.purchase_order_id, lines={line.po_line_no for line in lines}
        )

    # then they are the supplier's other invoices (none is keyed yet, so each is a duplicate
    # candidate), and every invoice on the PO with its lines
    assert sorted(i.id for i in earlier) == sorted(set(of_supplier) - {invoice.id})
    assert sorted(b.invoice.id for b in billed) == sorted(i.id for i in on_order)
    assert next(b.lines for b in billed if b.invoice.id == invoice.id) == tuple(lines)


async def second_waits_for_first(
    engine: AsyncEngine, change: Callable[[SqlUnitOfWork, str], Awaitable[None]]
) -> None:
    """`change(uow, "first")` in a unit of work that then holds the invoice, and
    `change(uow, "second")` in another begun meanwhile: the first commits only once the
    second is seen waiting on its lock; both commit."""
    async with SqlUnitOfWork(engine) as first:
        await change(first, "first")

        async def second_change() -> None:
            async with SqlUnitOfWork(engine) as second:
                await change(second, "second")
                await second.commit()

        second_task = asyncio.create_task(second_change())
        await until_blocked_by(engine, await backend_pid(first.invoices.connection))
        await first.commit()
    await second_task


async def test_get_for_update_makes_a_concurrent_change_wait_and_loses_no_update(
    seeded_postgres, tiny_network
):
    engine = seeded_postgres
    invoice, _ = template(tiny_network)

    async def append_mark(uow, mark: str) -> None:
        current = await uow.invoices.get_for_update(invoice.id)
        marks = (current.erp_document_ref or "").split(",") if current.erp_document_ref else []
        await uow.invoices.save(replace(current, erp_document_ref=",".join([*marks, mark])))

    # given one unit of work holding the invoice, when a second one reads it for update
    # meanwhile, then the second waits for the first to finish
    await second_waits_for_first(engine, append_mark)

    # and builds on its change instead of overwriting it
    async with SqlUnitOfWork(engine) as uow:
        stored = await uow.invoices.get_for_update(invoice.id)
    seeded_marks = [invoice.erp_document_ref] if invoice.erp_document_ref else []
    assert stored.erp_document_ref == ",".join([*seeded_marks, "first", "second"])


async def test_history_numbered_on_by_the_store_follows_a_change_committed_while_it_waited(
    seeded_postgres, tiny_network
):
    """`numbered_on` reads the history's length in the statement that saves (PostgreSQL), so
    that statement, begun after the invoice's lock was granted, must see what the holder of
    the lock committed: the second change goes after the first, with no gap and no clash."""
    engine = seeded_postgres
    invoice, _ = template(tiny_network)

    async def record(uow, note: str) -> None:
        current = await uow.invoices.get_for_update(invoice.id)
        change = StatusChange(invoice.id, 1, AT, current.status, current.status, "ops", note)
        await uow.invoices.save_with_history(current, [change], numbered_on=True)

    async with engine.connect() as connection:
        stored_before = await connection.scalar(
            select(func.count())
            .select_from(InvoiceStatusChangeRow.__table__)
            .where(InvoiceStatusChangeRow.__table__.c.invoice_id == invoice.id)
        )

    # given one unit of work holding the invoice, its change recorded, when a second one
    # records a change meanwhile (waiting for the first)
    await second_waits_for_first(engine, record)

    # then the second's change is numbered after the first's
    async with SqlUnitOfWork(engine) as uow:
        history = await uow.invoices.history(invoice.id)
    assert [change.sequence for change in history] == list(range(1, stored_before + 3))
    assert [change.note for change in history[-2:]] == ["first", "second"]


async def test_a_unit_of_work_is_used_for_one_block_only(engine):
    uow = SqlUnitOfWork(engine)
    async with uow:
        pass
    with pytest.raises(RuntimeError, match="one block only"):
        async with uow:
            pass


async def test_concurrent_read_then_write_units_of_work_lose_no_update(seeded, tiny_network):
    # given one invoice, and eight units of work that each read it and then append a mark
    invoice, _ = template(tiny_network)

    async def append_mark(mark: str) -> None:
        async with SqlUnitOfWork(seeded) as uow:
            current = await uow.invoices.get_for_update(invoice.id)
            ref = ",".join(filter(None, [current.erp_document_ref, mark]))
            await uow.invoices.save(replace(current, erp_document_ref=ref))
            await uow.commit()

    # when they run side by side
    marks = [f"m{n}" for n in range(8)]
    async with asyncio.TaskGroup() as group:
        for mark in marks:
            group.create_task(append_mark(mark))

    # then every one of them built on the one before: all marks are there
    async with SqlUnitOfWork(seeded) as uow:
        stored = await uow.invoices.get_for_update(invoice.id)
    assert sorted(stored.erp_document_ref.split(",")) == sorted(
        filter(None, [invoice.erp_document_ref, *marks])
    )


@pytest.mark.parametrize("facts", ["duplicate_candidates", "billed_per_po_line"])
async def test_a_concurrent_check_waits_and_sees_the_invoice_stored_before_it(
    seeded_postgres, tiny_network, facts
):
    engine = seeded_postgres
    seeded_invoice, seeded_lines = template(tiny_network)

    async def read_facts(uow) -> set[str]:
        if facts == "duplicate_candidates":
            found = await uow.invoices.duplicate_candidates(
                seeded_invoice.supplier_id,
                number=NUMBERS.keyed("race-1"),  # the number the first stores, written otherwise
                currency="XTS",
                total=seeded_invoice.total,
            )
            return {invoice.id for invoice in found}
        billed = await uow.invoices.billed_per_po_line(
            seeded_invoice.purchase_order_id, lines={line.po_line_no for line in seeded_lines}
        )
        return {b.invoice.id for b in billed}

    async def second_check() -> set[str]:
        async with SqlUnitOfWork(engine) as second:
            return await read_facts(second)

    # given a submission that read its facts and is storing a new invoice of that supplier and PO
    async with SqlUnitOfWork(engine) as first:
        before = await read_facts(first)
        new_id = await submit_everything(first, tiny_network, number="RACE-1")

        # when a second submission checks the same supplier / PO meanwhile
        second = asyncio.create_task(second_check())

        # then it waits for the first to end
        await until_blocked_by(engine, await backend_pid(first.invoices.connection))
        await first.commit()

    # and sees the invoice the first stored: no duplicate or over-billing slips through
    assert await second == before | {new_id}


async def test_a_check_of_another_po_line_does_not_wait_for_a_unit_of_work_on_this_one(
    seeded_postgres, tiny_network
):
    engine = seeded_postgres
    order_id, billed_line = next(
        (order_id, line.line_no)
        for order_id, line in tiny_network.purchase_order_lines
        if sum(1 for other, _ in tiny_network.purchase_order_lines if other == order_id) > 1
    )
    other_line = next(
        line.line_no
        for owner, line in tiny_network.purchase_order_lines
        if owner == order_id and line.line_no != billed_line
    )

    # given a unit of work that checks, and so locks, one line of a PO
    async with SqlUnitOfWork(engine) as first:
        await first.invoices.billed_per_po_line(order_id, lines={billed_line})

        # when another unit of work checks another line of the same PO meanwhile
        async with SqlUnitOfWork(engine) as second:
            # then it goes ahead (the lock is the line's, not the PO's)
            async with asyncio.timeout(30):
                await second.invoices.billed_per_po_line(order_id, lines={other_line})

        # while a third one checking the same line waits for the first to end
        async def same_line() -> None:
            async with SqlUnitOfWork(engine) as third:
                await third.invoices.billed_per_po_line(order_id, lines={billed_line})

        waiting = asyncio.create_task(same_line())
        await until_blocked_by(engine, await backend_pid(first.invoices.connection))
        await first.commit()
    await waiting


async def with_invoice_counter(engine: AsyncEngine) -> None:
    """Makes the invoice counter's row, as any claim committed does (a fresh seed has none)."""
    async with SqlUnitOfWork(engine) as uow:
        await uow.invoices.next_id()
        await uow.commit()


def posting_key_along(key: str) -> Callable[[InvoiceId], list[IdempotencyRecord]]:
    """As a submission keeps its posting key: a record keyed by the new invoice's ID."""
    return lambda claimed: [IdempotencyRecord("posting-keys", claimed, "fp-posting", key, AT)]


async def test_an_id_claimed_with_its_key_is_the_keys_result_and_keys_what_goes_along(
    seeded, tiny_network
):
    await with_invoice_counter(seeded)
    # when a unit of work claims an invoice ID with the caller's idempotency key
    async with SqlUnitOfWork(seeded) as uow:
        invoice_id, on_file = await uow.invoices.next_id_keyed(
            "client-1", "key-1", fingerprint="fp-1", at=AT, along=posting_key_along("sub-1")
        )
        await uow.commit()

    # then it is the next ID, the key's record names it, and the posting key is kept under it
    assert invoice_id == numbered(EntityKind.INVOICE, highest_seeded(tiny_network) + 2)
    assert on_file == IdempotencyRecord("client-1", "key-1", "fp-1", invoice_id, AT)
    async with SqlUnitOfWork(seeded) as uow:
        kept = await uow.idempotency.get("posting-keys", invoice_id)
    assert kept == IdempotencyRecord("posting-keys", invoice_id, "fp-posting", "sub-1", AT)


async def test_on_postgresql_the_claim_and_the_key_are_one_statement(seeded_postgres, tiny_network):
    await with_invoice_counter(seeded_postgres)

    async with SqlUnitOfWork(seeded_postgres) as uow:
        await uow.idempotency.get("client-1", "warm-up")  # the transaction's first statement
        with counting_statements(keeping_sql=True) as counted:
            await uow.invoices.next_id_keyed("client-1", "key-1", fingerprint="fp-1", at=AT)
    assert counted.sent is not None
    (statement,) = counted.sent
    assert "UPDATE counters" in statement
    assert "INSERT INTO idempotency_keys" in statement


async def test_a_key_on_file_answers_its_record_and_the_id_is_handed_out_again(
    seeded, tiny_network
):
    # given a key stored by an earlier request
    await with_invoice_counter(seeded)
    async with SqlUnitOfWork(seeded) as uow:
        first_id, _ = await uow.invoices.next_id_keyed("client-1", "key-1", fingerprint="a", at=AT)
        await uow.commit()

    # when another request offers the same key
    async with SqlUnitOfWork(seeded) as uow:
        claimed, on_file = await uow.invoices.next_id_keyed(
            "client-1", "key-1", fingerprint="b", at=AT, along=posting_key_along("sub-2")
        )
        # (it loses the key, so it rolls back)

    # then it is answered the first request's record, and its ID is not used up
    assert on_file == IdempotencyRecord("client-1", "key-1", "a", first_id, AT)
    assert claimed != first_id
    async with SqlUnitOfWork(seeded) as uow:
        assert await uow.invoices.next_id() == claimed
        assert await uow.idempotency.get("posting-keys", claimed) is None


async def test_without_the_counters_row_the_id_continues_after_the_highest_on_file(
    seeded, tiny_network
):
    # given a database whose invoice counter row is gone (a fresh or emptied one)
    async with seeded.begin() as connection:
        await connection.execute(delete(CounterRow).where(CounterRow.name == "invoice"))

    async with SqlUnitOfWork(seeded) as uow:
        invoice_id, on_file = await uow.invoices.next_id_keyed(
            "client-1", "key-1", fingerprint="fp-1", at=AT, along=posting_key_along("sub-1")
        )
        await uow.commit()

    assert invoice_id == numbered(EntityKind.INVOICE, highest_seeded(tiny_network) + 1)
    assert on_file.result_ref == invoice_id
    async with SqlUnitOfWork(seeded) as uow:
        assert await uow.invoices.next_id() == numbered(
            EntityKind.INVOICE, highest_seeded(tiny_network) + 2
        )


async def test_a_record_along_that_is_not_keyed_by_the_id_is_refused(seeded_postgres):
    await with_invoice_counter(seeded_postgres)
    async with SqlUnitOfWork(seeded_postgres) as uow:
        with pytest.raises(ValueError, match="as their key"):
            await uow.invoices.next_id_keyed(
                "client-1",
                "key-1",
                fingerprint="fp-1",
                at=AT,
                along=lambda _: [IdempotencyRecord("posting-keys", "other", "fp", "sub-1", AT)],
            )


async def test_two_requests_with_one_key_at_once_the_second_gets_the_firsts_record(
    seeded_postgres, tiny_network
):
    await with_invoice_counter(seeded_postgres)
    # given a request that claimed an ID with its key and has not committed yet
    async with SqlUnitOfWork(seeded_postgres) as first:
        first_id, _ = await first.invoices.next_id_keyed(
            "client-1", "key-1", fingerprint="fp", at=AT, along=posting_key_along("sub-1")
        )

        async def second_request() -> tuple[InvoiceId, IdempotencyRecord]:
            async with SqlUnitOfWork(seeded_postgres) as second:
                return await second.invoices.next_id_keyed(
                    "client-1", "key-1", fingerprint="fp", at=AT, along=posting_key_along("sub-1")
                )

        # when a second request with the same key comes meanwhile, it waits
        second = asyncio.create_task(second_request())
        await until_blocked_by(seeded_postgres, await backend_pid(first.invoices.connection))
        await first.commit()

    # then, the first committed, the second is answered the first's record
    second_id, on_file = await second
    assert on_file == IdempotencyRecord("client-1", "key-1", "fp", first_id, AT)
    assert second_id != first_id  # its own claim, rolled back with it


async def test_on_postgresql_a_commit_without_the_chains_head_row_fails_and_writes_nothing(
    seeded_postgres,
):
    # given a database whose audit head row is gone (it comes with the migrations)
    events_before = await OutboxRepository(seeded_postgres).head()
    async with seeded_postgres.begin() as connection:
        await connection.execute(delete(AuditHeadRow))

    # when a unit of work commits an event and an audit entry, it fails
    with pytest.raises(RuntimeError, match="its row is gone"):
        await write_events_and_audit_of_two_moments(seeded_postgres, 1)

    # and its events are not written either
    assert await OutboxRepository(seeded_postgres).head() == events_before
