"""The outbox relay: posted invoices reach the analytics forecast once, in sequence order;
when analytics is down nothing is lost, and the next run delivers."""

from datetime import UTC, datetime

import pytest

from apgraph.domain.events import InvoicePosted, InvoiceReceived
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.principal import RowScope
from apgraph.events.relay import OutboxRelay
from apgraph.gateway.runtime import SystemClock
from apgraph.simulators.faults import Fault, FaultKind
from apgraph.store.invoices import InvoiceRepository
from apgraph.store.outbox import OutboxRepository
from apgraph.store.unit_of_work import SqlUnitOfWork

WEBHOOK = "POST /webhooks/payment-forecasts"


@pytest.fixture
def sink(served):
    return served.simulators.analytics


@pytest.fixture
async def relay(stack, ledger_engine):
    outbox = OutboxRepository(ledger_engine)
    # earlier tests' events are not this test's business: publish them first
    while pending := await outbox.pending(500):
        await outbox.mark_published([r.id for r in pending], at=datetime.now(UTC))
    return OutboxRelay(
        outbox=outbox,
        invoices=InvoiceRepository(ledger_engine, RowScope()),
        analytics=stack.analytics,
        clock=SystemClock(),
    )


async def commit_events(engine, events):
    async with SqlUnitOfWork(engine, trace_id="trace-relay") as uow:
        await uow.outbox.add(events)
        await uow.commit()


def posted(invoice, at):
    return InvoicePosted(invoice.id, invoice.supplier_id, invoice.facility_id, at, "LEG-1")


def received(invoice, at):
    return InvoiceReceived(
        invoice.id, invoice.supplier_id, invoice.facility_id, at, invoice.supplier_invoice_number
    )


async def test_a_posted_invoice_becomes_one_forecast_at_its_total_and_due_date(
    relay, sink, ledger_engine, network
):
    # given two committed events of one posted invoice
    invoice = next(i for i in network.invoices if i.status is InvoiceStatus.POSTED)
    now = datetime.now(UTC)
    await commit_events(ledger_engine, [received(invoice, now), posted(invoice, now)])
    before = len(sink.received.batches)

    # when the relay runs
    run = await relay.run_once()

    # then both are published and the forecast carries the invoice's total and due date
    assert (run.published, run.forecasts, run.failed) == (2, 1, None)
    (batch,) = list(sink.received.batches.values())[before:]
    assert batch == [
        {
            "invoiceRef": invoice.id,
            "supplierRef": invoice.supplier_id,
            "siteRef": invoice.facility_id,
            "amount": format(invoice.total, "f"),
            "currency": invoice.currency,
            "expectedDate": invoice.due_date.isoformat(),
        }
    ]
    assert await relay.outbox.pending(10) == []


async def test_when_analytics_is_down_nothing_is_published_and_the_next_run_delivers(
    relay, sink, ledger_engine, network
):
    invoice = next(i for i in network.invoices if i.status is InvoiceStatus.REMITTED)
    await commit_events(ledger_engine, [posted(invoice, datetime.now(UTC))])
    sink.plan.add(Fault(FaultKind.ERROR, operation=WEBHOOK, times=None))  # down until cleared

    failed = await relay.run_once()

    assert failed.published == 0
    assert failed.failed is not None
    assert [r.type for r in await relay.outbox.pending(10)] == ["invoice.posted"]

    sink.plan.clear()  # analytics is back
    delivered = await relay.run_once()
    assert (delivered.published, delivered.forecasts) == (1, 1)
    assert await relay.outbox.pending(10) == []


async def test_an_empty_outbox_is_a_quiet_run(relay):
    assert (await relay.run_once()).published == 0
