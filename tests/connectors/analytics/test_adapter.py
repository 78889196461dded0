"""Payment forecasts to the analytics webhook simulator over loopback, in batches."""

from datetime import timedelta
from decimal import Decimal

import pytest

from apgraph.domain.erp import ForecastRecord
from apgraph.simulators.faults import Fault, FaultKind
from tests.connectors.support import HANG

WEBHOOK = "POST /webhooks/payment-forecasts"


@pytest.fixture
def sink(served):
    return served.simulators.analytics


def forecasts(network, count: int, *, start: int = 0) -> list[ForecastRecord]:
    return [
        ForecastRecord(
            invoice_id=invoice.id,
            supplier_id=invoice.supplier_id,
            facility_id=invoice.facility_id,
            currency=invoice.currency,
            amount=invoice.total,
            expected_on=invoice.due_date + timedelta(days=start),
        )
        for invoice in network.invoices[:count]
    ]


async def test_records_go_out_in_batches_with_amounts_as_strings(stack, sink, network):
    records = forecasts(network, 5, start=1)
    before = len(sink.received.batches)

    batches = await stack.analytics.send_forecasts(records)

    assert batches == 3  # batch size 2
    assert sink.plan.calls[WEBHOOK] == 3
    sent = list(sink.received.batches.values())[before:]
    assert [len(batch) for batch in sent] == [2, 2, 1]
    assert sent[0][0]["amount"] == str(records[0].amount)
    assert Decimal(sent[0][0]["amount"]) == records[0].amount


async def test_a_batch_whose_answer_was_lost_is_resent_and_counted_once(stack, sink, network):
    records = forecasts(network, 2, start=2)
    sink.plan.add(Fault(FaultKind.LOST_RESPONSE, operation=WEBHOOK, seconds=HANG))
    before = (len(sink.received.batches), sink.received.duplicates)

    await stack.analytics.send_forecasts(records)

    assert sink.plan.calls[WEBHOOK] == 2
    assert (len(sink.received.batches), sink.received.duplicates) == (
        before[0] + 1,
        before[1] + 1,
    )


async def test_the_same_forecast_sent_twice_is_one_batch_there(stack, sink, network):
    records = forecasts(network, 1, start=3)
    await stack.analytics.send_forecasts(records)
    batches = len(sink.received.batches)

    await stack.analytics.send_forecasts(records)

    assert len(sink.received.batches) == batches


async def test_nothing_to_send_sends_nothing(stack, sink):
    assert await stack.analytics.send_forecasts([]) == 0
    assert sink.plan.calls[WEBHOOK] == 0
