"""The outbox relay: posted invoices reach the analytics forecast once, in sequence order;
when analytics is down nothing is lost, and the next run delivers."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.domain.dead_letters import DeadLetterKind
from apgraph.domain.erp import ForecastRecord
from apgraph.domain.events import InvoicePosted, InvoiceReceived
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.principal import RowScope
from apgraph.events.hub import Hub
from apgraph.events.in_process import InProcessBus
from apgraph.events.relay import OutboxRelay, RelayRun
from apgraph.gateway.runtime import SystemClock
from apgraph.services.dead_letters import REPLAYER, ReplayRegistry, replay_dead_letter
from apgraph.services.ports.connectors import AnalyticsSink
from apgraph.services.ports.dead_letters import DeadLetterFilter
from apgraph.services.ports.reads import PageRequest
from apgraph.services.ports.unit_of_work import OutboxRecord
from apgraph.simulators.faults import Fault, FaultKind
from apgraph.store import outbox_notices
from apgraph.store.dead_letters import SqlDeadLetters
from apgraph.store.invoices import InvoiceRepository
from apgraph.store.outbox import OutboxRepository
from apgraph.store.unit_of_work import SqlUnitOfWork
from tests.databases import pool_checkouts, two_servers
from tests.keys import keyring_for
from tests.store.conftest import TINY
from tests.store.lock_waits import until_waiting_for_its_turn

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


async def test_a_forecast_analytics_keeps_refusing_is_dead_lettered_not_lost_and_replayed_once(
    relay, sink, ledger_engine, network
):
    # given a relay filing refused events after 3 runs, and analytics refusing every forecast
    store = SqlDeadLetters(ledger_engine)
    relay = replace(relay, dead_letters=store, dead_letter_after=3)
    # (one no other test sends: the sink keeps each distinct batch once)
    invoice = [i for i in network.invoices if i.status is InvoiceStatus.POSTED][-1]
    now = datetime.now(UTC)
    await commit_events(ledger_engine, [received(invoice, now), posted(invoice, now)])
    sink.plan.add(Fault(FaultKind.ERROR, operation=WEBHOOK, status=422, times=None))
    try:
        # when the relay runs three times
        runs = [await relay.run_once() for _ in range(3)]

        # then the first two leave the batch pending; the third publishes the received event
        # and files the refused posted one as a RELAY dead letter, in the outbox still
        assert [(r.published, r.dead_lettered) for r in runs] == [(0, 0), (0, 0), (1, 1)]
        assert await relay.outbox.pending(10) == []
        [event] = [r for r in await relay.outbox.after(0, 100_000) if r.invoice_id == invoice.id][
            -1:
        ]
        assert event.type == "invoice.posted"
        [letter] = await letters(store, event.id)
        assert (letter.code, letter.attempts, letter.resolved) == ("ANALYTICS_REJECTED", 1, False)
    finally:
        sink.plan.clear()  # analytics takes forecasts again

    # when the letter is replayed twice
    registry = ReplayRegistry()
    registry.register(DeadLetterKind.RELAY, relay.replay)
    first = await replay_dead_letter(
        letter.id, store=store, replays=registry, principal=REPLAYER, clock=SystemClock()
    )
    second = await replay_dead_letter(
        letter.id, store=store, replays=registry, principal=REPLAYER, clock=SystemClock()
    )

    # then the forecast reaches analytics once, and the second replay answers the first
    assert first.ok, first.problems
    assert first.value is not None
    assert first.value.outcome == "PUBLISHED invoice.posted"
    assert [p.code.value for p in second.problems] == ["DEAD_LETTER_ALREADY_REPLAYED"]
    batches = sink.received.batches.values()
    assert [b for b in batches if [f["invoiceRef"] for f in b] == [invoice.id]] != []
    assert sum(f["invoiceRef"] == invoice.id for b in batches for f in b) == 1


async def test_an_unavailable_analytics_never_dead_letters(relay, sink, ledger_engine, network):
    # given a relay that would file after 2 refusals, and analytics down (503)
    store = SqlDeadLetters(ledger_engine)
    relay = replace(relay, dead_letters=store, dead_letter_after=2)
    invoice = next(i for i in network.invoices if i.status is InvoiceStatus.POSTED)
    await commit_events(ledger_engine, [posted(invoice, datetime.now(UTC))])
    sink.plan.add(Fault(FaultKind.ERROR, operation=WEBHOOK, times=None))
    try:
        # when the relay runs more often than that
        runs = [await relay.run_once() for _ in range(3)]
    finally:
        sink.plan.clear()

    # then the event waits in the outbox, filed nowhere
    assert [r.dead_lettered for r in runs] == [0, 0, 0]
    [pending] = await relay.outbox.pending(10)
    assert await letters(store, pending.id) == []


async def letters(store, subject):
    page = await store.page(DeadLetterFilter(kind=DeadLetterKind.RELAY), PageRequest(first=1000))
    return [x for x in page.items if x.subject == subject]


@pytest.fixture(params=["sqlite", "postgresql"])
async def two_processes(request, tmp_path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """One outbox, and a connection pool of its own for each of two servers."""
    async with two_servers(request.param, tmp_path) as (first, second):
        await demo_writer.write(first, generator.generate(TINY), keyring=await keyring_for(first))
        yield first, second


@dataclass
class HeldAnalytics:
    """The analytics adapter, with a pause before the first batch it sends."""

    inner: AnalyticsSink
    hold: Callable[[], Awaitable[None]] | None

    async def send_forecasts(self, records: Sequence[ForecastRecord]) -> int:
        if self.hold is not None:
            hold, self.hold = self.hold, None
            await hold()
        return await self.inner.send_forecasts(records)


async def test_relays_of_two_servers_take_turns_so_each_forecast_and_event_goes_out_once(
    two_processes, stack, sink
):
    first, second = two_processes
    # others for each backend: the simulator keeps each distinct batch once, for the session
    skip = 0 if first.dialect.name == "sqlite" else 3
    invoices = [i for i in generator.generate(TINY).invoices if i.purchase_order_id][skip:][:3]
    now = datetime.now(UTC)
    heard: dict[str, list[int]] = {"first": [], "second": []}
    stop = asyncio.Event()

    def relay_of(engine: AsyncEngine, name: str, analytics: AnalyticsSink) -> OutboxRelay:
        bus = InProcessBus()

        async def hear(records: Sequence[OutboxRecord]) -> None:  # as webhook planning would
            heard[name].extend(r.sequence for r in records)

        consumers.append(asyncio.create_task(bus.consume_batches("webhooks", hear, stop=stop)))
        return OutboxRelay(
            outbox=OutboxRepository(engine),
            invoices=InvoiceRepository(engine, RowScope()),
            analytics=analytics,
            clock=SystemClock(),
            bus=bus,
        )

    consumers: list[asyncio.Task[None]] = []
    other: list[asyncio.Task[RelayRun]] = []

    async def second_server_relays_meanwhile() -> None:
        # two more invoices are posted on the second server, which relays at once
        await commit_events(second, [posted(invoices[1], now), posted(invoices[2], now)])
        other.append(asyncio.create_task(second_relay.run_once()))
        await until_waiting_for_its_turn(first, other[0])

    # given two servers' relays on one outbox, and an invoice posted on the first
    first_relay = relay_of(first, "first", HeldAnalytics(stack.analytics, None))
    second_relay = relay_of(second, "second", stack.analytics)
    await asyncio.sleep(0)  # the consumers registered
    head = await first_relay.outbox.head()  # the demo's history, published already
    await commit_events(first, [posted(invoices[0], now)])
    first_relay = replace(
        first_relay, analytics=HeldAnalytics(stack.analytics, second_server_relays_meanwhile)
    )
    before = len(sink.received.batches)

    # when the first relays it, and the second server's relay runs while the first delivers
    runs = [await first_relay.run_once(), await other[0]]
    stop.set()
    await asyncio.gather(*consumers)

    # then each forecast went to analytics once, and each event to one bus, in order
    forecasts = [r["invoiceRef"] for b in list(sink.received.batches.values())[before:] for r in b]
    assert sorted(forecasts) == sorted(i.id for i in invoices)
    assert heard["first"] + heard["second"] == [head + 1, head + 2, head + 3]
    assert [(run.published, run.forecasts) for run in runs] == [(1, 1), (2, 2)]
    assert await first_relay.outbox.pending(10) == []


async def test_a_relay_in_its_turn_reads_and_marks_its_batch_on_the_turns_connection(
    stack, tmp_path
):
    """On PostgreSQL, so a relay holding the turn never waits for the pool to read or mark its
    batch (while every other server's relay waits for it), and a run takes one pooled
    connection, not three. (SQLite's turn is a file lock: its relay reads as anywhere else.)"""
    async with two_servers("postgresql", tmp_path) as (engine, _):
        await demo_writer.write(engine, generator.generate(TINY), keyring=await keyring_for(engine))
        outbox = OutboxRepository(engine)
        relay = OutboxRelay(
            outbox=outbox,
            invoices=InvoiceRepository(engine, RowScope()),
            analytics=stack.analytics,
            clock=SystemClock(),
        )
        # given an event that asks analytics nothing (a received invoice)
        invoice = generator.generate(TINY).invoices[0]
        await commit_events(engine, [received(invoice, datetime.now(UTC))])

        # when the relay runs
        with pool_checkouts(engine) as checkouts:
            run = await relay.run_once()

        # then it published the event on the one connection of its turn
        assert run.published == 1
        assert len(checkouts) == 1
        assert await outbox.pending(10) == []


async def test_a_servers_hub_hears_at_once_what_another_servers_relay_delivered(stack, tmp_path):
    """With the in-process bus a server hears on its bus only the batches its own relay ran;
    the relay that ran one tells the other servers' hubs when its turn commits (PostgreSQL's
    NOTIFY), so they do not wait for their catch-up (here an hour)."""
    async with two_servers("postgresql", tmp_path) as (first, second):
        await demo_writer.write(first, generator.generate(TINY), keyring=await keyring_for(first))
        stop, relayed_elsewhere, listening = asyncio.Event(), asyncio.Event(), asyncio.Event()
        # given the second server's hub, listening for the word, with a subscriber
        hub = await Hub.at_head(OutboxRepository(second))
        subscriber = hub.listen(10)
        tasks = [
            asyncio.create_task(
                hub.run(InProcessBus(), stop, interval=3600, wake=relayed_elsewhere)
            ),
            asyncio.create_task(
                outbox_notices.listen(
                    second, relayed_elsewhere, stop, listening=listening, process="second"
                )
            ),
        ]
        async with asyncio.timeout(30):
            await listening.wait()

        # when an invoice is received on the first server, and its relay delivers the event
        invoice = generator.generate(TINY).invoices[0]
        await commit_events(first, [received(invoice, datetime.now(UTC))])
        relay = OutboxRelay(
            outbox=OutboxRepository(first),
            invoices=InvoiceRepository(first, RowScope()),
            analytics=stack.analytics,
            clock=SystemClock(),
            bus=InProcessBus(),
        )
        assert (await relay.run_once()).published == 1

        # then the second server's subscriber hears it
        try:
            async with asyncio.timeout(30):
                heard = await anext(aiter(subscriber))
        finally:
            stop.set()
            await asyncio.gather(*tasks)
        assert (heard.record.type, heard.record.invoice_id) == ("invoice.received", invoice.id)
