"""The outbox relay: publishes committed events, at least once, in sequence order.

Every batch goes to the event bus (subscriptions, webhooks), and each `invoice.posted` also
becomes a forecast record for the analytics platform (the invoice's total, expected on its
due date). A delivery that fails leaves the batch unpublished, to be tried again on the next
run: the bus dedupes by event id (JetStream) and its consumers by id or sequence, and the
analytics sink keys each batch by its content, so a resend after a lost answer counts once.
"""

import asyncio
import logging
import random
import re
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from apgraph.domain.erp import ForecastRecord
from apgraph.domain.ids import FacilityId, InvoiceId, SupplierId
from apgraph.domain.invoices import Invoice
from apgraph.domain.money import at_minor_units
from apgraph.services.periodic import repeat_until
from apgraph.services.ports.bus import BusUnavailable, EventBus
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.connectors import AnalyticsSink, ConnectorError
from apgraph.services.ports.reads import InvoiceReader
from apgraph.services.ports.unit_of_work import Outbox, OutboxRecord

log = logging.getLogger("apgraph.relay")

POSTED = "invoice.posted"


@dataclass(frozen=True, slots=True)
class RelayRun:
    published: int
    forecasts: int
    failed: str | None = None  # why the batch stays pending, when it does


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

    async def run_once(self) -> RelayRun:
        records = await self.outbox.pending(self.batch_size)
        if not records:
            return RelayRun(published=0, forecasts=0)
        if self.bus is not None:
            try:
                with _publishing(records):
                    await self.bus.publish(records)
            except BusUnavailable as error:
                log.warning(
                    "event bus unavailable, %d events stay pending: %s", len(records), error
                )
                return RelayRun(published=0, forecasts=0, failed=str(error))
        forecasts = await self._forecasts(records)
        if forecasts:
            try:
                await self.analytics.send_forecasts(forecasts)
            except ConnectorError as error:
                log.warning(
                    "analytics unavailable, %d events stay pending: %s", len(records), error
                )
                return RelayRun(published=0, forecasts=0, failed=str(error))
        await self.outbox.mark_published([r.id for r in records], at=self.clock.now())
        return RelayRun(published=len(records), forecasts=len(forecasts))

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
