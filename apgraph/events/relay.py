"""The outbox relay: publishes committed events, at least once, in sequence order.

Every batch goes to the event bus (subscriptions, webhooks), and each `invoice.posted` also
becomes a forecast record for the analytics platform (the invoice's total, expected on its
due date). A delivery that fails leaves the batch unpublished, to be tried again on the next
run: the bus dedupes by event id (JetStream) and its consumers by id or sequence, and the
analytics sink keys each batch by its content, so a resend after a lost answer counts once.

A batch the bus or analytics *refuses* (an event type the bus has no stream for, a forecast
the platform rejects as malformed) would block every later event for good. After
`dead_letter_after` runs refusing the same batch, the relay tries its events one at a time:
each one still refused is filed in the dead-letter store (kind RELAY, subject its event id)
and passed over, the rest are published. No event is lost: it stays in the outbox, and a
replay of its letter publishes it again by its id. Unavailability (NATS restarting, analytics
down) never dead-letters anything: the batch simply waits.

Each process (worker, server) runs a relay, and they take turns (`Outbox.relay_turn`): a
batch is read, delivered and marked by one of them, so the analytics platform gets each
forecast in one batch and the bus each event from one relay. A process whose relay did not
run a batch still hears its events: its hub fills any gap from the outbox (events/hub.py).
"""

import asyncio
import logging
import random
import re
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from apgraph.domain.dead_letters import DeadLetter, DeadLetterKind
from apgraph.domain.erp import ForecastRecord
from apgraph.domain.ids import FacilityId, InvoiceId, SupplierId
from apgraph.domain.invoices import Invoice
from apgraph.domain.money import at_minor_units
from apgraph.domain.principal import Principal
from apgraph.services.periodic import repeat_until
from apgraph.services.ports.bus import BusRejected, BusUnavailable, EventBus
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.connectors import (
    AnalyticsSink,
    ConnectorError,
    ConnectorMappingError,
    ConnectorRejected,
)
from apgraph.services.ports.dead_letters import DeadLetterWriter, ReplayResult
from apgraph.services.ports.reads import InvoiceReader
from apgraph.services.ports.unit_of_work import Outbox, OutboxRecord, OutboxTurn

log = logging.getLogger("apgraph.relay")

POSTED = "invoice.posted"
DEAD_LETTER_AFTER = 5  # runs refusing the same batch before its refused events are filed


@dataclass(frozen=True, slots=True)
class RelayRun:
    published: int
    forecasts: int
    failed: str | None = None  # why the batch stays pending, when it does
    dead_lettered: int = 0  # events filed as RELAY dead letters (and passed over) this run


@dataclass(frozen=True, slots=True)
class _Failure:
    code: str  # stable: BUS_UNAVAILABLE, BUS_REJECTED, or the analytics connector's code
    detail: str
    refused: bool  # trying again will not help


def forecast_of(invoice: Invoice) -> ForecastRecord:
    """A posted invoice is expected to be paid in full on its due date."""
    return ForecastRecord(
        invoice_id=InvoiceId(invoice.id),
        supplier_id=SupplierId(invoice.supplier_id),
        facility_id=FacilityId(invoice.facility_id),
        currency=invoice.currency,
        amount=at_minor_units(invoice.total, invoice.currency),  # 222.5800 → 222.58
        expected_on=invoice.due_date,
    )


@dataclass(frozen=True)
class OutboxRelay:
    outbox: Outbox
    invoices: InvoiceReader  # unscoped: the relay works for the system, not for a caller
    analytics: AnalyticsSink
    clock: Clock
    bus: EventBus | None = None  # None: analytics only (tests of the forecast feed)
    batch_size: int = 200
    wake: asyncio.Event | None = None  # set after a commit that wrote events: relay at once
    dead_letters: DeadLetterWriter | None = None  # None: a refused batch waits for good
    dead_letter_after: int = DEAD_LETTER_AFTER
    # the first event of the batch refused last, and how many runs in a row refused it
    _refused: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    async def run_once(self) -> RelayRun:
        """One batch, in this process's turn: relays of several processes (workers, servers)
        take turns, so none reads a batch another is still delivering."""
        async with self.outbox.relay_turn() as turn:
            return await self._run_in_turn(turn)

    async def _run_in_turn(self, turn: OutboxTurn) -> RelayRun:
        records = await turn.pending(self.batch_size)
        if not records:
            return RelayRun(published=0, forecasts=0)
        failure, forecasts = await self._deliver(records)
        if failure is None:
            self._refused.clear()
            await turn.mark_published([r.id for r in records], at=self.clock.now())
            return RelayRun(published=len(records), forecasts=forecasts)
        log.warning("%d events stay pending (%s): %s", len(records), failure.code, failure.detail)
        if not failure.refused or self.dead_letters is None:
            return RelayRun(published=0, forecasts=0, failed=failure.detail)
        runs = self._refused.get(records[0].id, 0) + 1
        self._refused.clear()
        self._refused[records[0].id] = runs
        if runs < self.dead_letter_after:
            return RelayRun(published=0, forecasts=0, failed=failure.detail)
        return await self._one_by_one(turn, records, self.dead_letters)

    async def _one_by_one(
        self, turn: OutboxTurn, records: Sequence[OutboxRecord], dead_letters: DeadLetterWriter
    ) -> RelayRun:
        """Each event alone: the refused ones filed as dead letters, the rest published; stops
        where the bus or analytics becomes unavailable (the rest waits for the next run)."""
        handled: list[str] = []
        forecasts = filed = 0
        stopped: _Failure | None = None
        for record in records:
            failure, sent = await self._deliver([record])
            if failure is not None and not failure.refused:
                stopped = failure
                break
            if failure is not None:
                await dead_letters.record(
                    DeadLetterKind.RELAY,
                    record.id,
                    code=failure.code,
                    detail=f"{record.type} #{record.sequence}: {failure.detail}",
                    at=self.clock.now(),
                )
                log.error(
                    "event %s (%s) filed as a dead letter: %s",
                    record.id,
                    record.type,
                    failure.detail,
                )
                filed += 1
            forecasts += sent
            handled.append(record.id)
        self._refused.clear()
        await turn.mark_published(handled, at=self.clock.now())
        return RelayRun(
            published=len(handled) - filed,
            forecasts=forecasts,
            failed=stopped.detail if stopped is not None else None,
            dead_lettered=filed,
        )

    async def replay(self, letter: DeadLetter, principal: Principal) -> ReplayResult:
        """A RELAY dead letter's replay: its event published again by its id (the bus and
        every consumer dedupe by it, the analytics sink by content). Failing again counts
        one more attempt on the letter."""
        found = await self.outbox.by_ids([letter.subject])
        if not found:
            return ReplayResult(resolved=True, outcome="EVENT_NOT_IN_OUTBOX")  # purged since
        failure, _ = await self._deliver(found)
        if failure is None:
            return ReplayResult(resolved=True, outcome=f"PUBLISHED {found[0].type}")
        if self.dead_letters is not None:
            await self.dead_letters.record(
                DeadLetterKind.RELAY,
                letter.subject,
                code=failure.code,
                detail=failure.detail,
                at=self.clock.now(),
            )
        return ReplayResult(resolved=False, outcome=failure.code)

    async def forecast_each(self, records: Sequence[OutboxRecord]) -> None:
        """`apgraph events replay --to analytics`: each posted invoice's forecast as a batch of
        its own, so a replay of the same events sends the same batches and the platform,
        deduplicating by batch key, counts each once. Raises ConnectorError when refused."""
        for record in records:
            forecasts = await self._forecasts([record])
            if forecasts:
                await self.analytics.send_forecasts(forecasts)

    async def _deliver(self, records: Sequence[OutboxRecord]) -> tuple[_Failure | None, int]:
        """To the bus, then each posted invoice's forecast to analytics: (why not, forecasts)."""
        if self.bus is not None:
            try:
                with _publishing(records):
                    await self.bus.publish(records)
            except BusUnavailable as error:
                return _Failure("BUS_UNAVAILABLE", str(error), refused=False), 0
            except BusRejected as error:
                return _Failure("BUS_REJECTED", str(error), refused=True), 0
        forecasts = await self._forecasts(records)
        if forecasts:
            try:
                await self.analytics.send_forecasts(forecasts)
            except (ConnectorRejected, ConnectorMappingError) as error:
                return _Failure(error.code.value, str(error), refused=True), 0
            except ConnectorError as error:
                return _Failure(error.code.value, str(error), refused=False), 0
        return None, len(forecasts)

    async def _forecasts(self, records: Sequence[OutboxRecord]) -> list[ForecastRecord]:
        posted = [r for r in records if r.type == POSTED]
        if not posted:
            return []
        found = {i.id: i for i in await self.invoices.get_many([r.invoice_id for r in posted])}
        return [forecast_of(found[r.invoice_id]) for r in posted if r.invoice_id in found]

    async def run_until(self, stop: asyncio.Event, *, interval: float) -> None:
        """Runs batches back to back while there is work, else every `interval` seconds."""

        async def more() -> bool:
            return (await self.run_once()).published >= self.batch_size

        await repeat_until(stop, more, interval=interval, wake=self.wake)


_tracer = trace.get_tracer("apgraph.events.relay")
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


@contextmanager
def _publishing(records: Sequence[OutboxRecord]) -> Iterator[None]:
    """One `outbox.publish` span per event, in the trace of the request that caused it (the
    envelope keeps its trace id), so a trace reads from the request to the event's delivery.
    The API is a no-op until the composition root installs a recording provider."""
    with ExitStack() as spans:
        for record in records:
            trace_id = record.trace_id or ""
            if not _TRACE_ID.match(trace_id) or not trace_id.strip("0"):
                continue
            caused_by = SpanContext(
                trace_id=int(trace_id, 16),
                span_id=random.getrandbits(64) or 1,  # the request's own span id is not kept
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
            spans.enter_context(
                _tracer.start_as_current_span(
                    f"outbox.publish {record.type}",
                    context=trace.set_span_in_context(NonRecordingSpan(caused_by)),
                    kind=SpanKind.PRODUCER,
                    attributes={
                        "messaging.operation.type": "publish",
                        "messaging.message.id": record.id,
                        "apgraph.event.sequence": record.sequence,
                    },
                )
            )
        yield
