"""Every fault kind against every adapter, over loopback: retried where retrying may help,
and only there. (Each adapter's own file covers its writes, lookups and mapping in depth.)"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from apgraph.domain.erp import ForecastRecord
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import ConnectorMappingError, ConnectorRejected
from apgraph.simulators.faults import Fault, FaultKind
from tests.connectors.support import HANG, Stack


@dataclass(frozen=True)
class Target:
    system: ExternalSystem
    operation: str  # as the simulator counts it
    call: Callable[[Stack, object], Awaitable[object]]


def _forecast(network) -> list[ForecastRecord]:
    invoice = network.invoices[-1]
    return [
        ForecastRecord(
            invoice.id,
            invoice.supplier_id,
            invoice.facility_id,
            invoice.currency,
            invoice.total,
            invoice.due_date + timedelta(days=40),
        )
    ]


def _receipts(stack, network):
    return stack.materials.receipts_for(network.goods_receipts[0].purchase_order_id)


def _price(stack, network):
    contract = network.contract_prices[0]
    return stack.sourcing.price_for(
        supplier_id=contract.supplier_id, item_id=contract.item_id, on=contract.valid_from
    )


TARGETS = [
    Target(ExternalSystem.LEGACY_ERP, "ListVendors", lambda stack, _: stack.legacy.vendors()),
    Target(ExternalSystem.CLOUD_ERP, "GET /api/v2/suppliers", lambda s, _: s.cloud.vendors()),
    Target(ExternalSystem.MATERIALS, "GET /api/purchase-orders/{po}/receipts", _receipts),
    Target(ExternalSystem.SOURCING, "GET /v1/agreement-lines", _price),
    Target(
        ExternalSystem.ANALYTICS,
        "POST /webhooks/payment-forecasts",
        lambda stack, network: stack.analytics.send_forecasts(_forecast(network)),
    ),
]

RETRIED_THEN_FINE = [
    Fault(FaultKind.ERROR, status=503),
    Fault(FaultKind.ERROR, status=502),
    Fault(FaultKind.TIMEOUT, seconds=HANG),
    Fault(FaultKind.LOST_RESPONSE, seconds=HANG),
    Fault(FaultKind.RATE_LIMIT, retry_after=1),
]


def fault_id(fault: Fault) -> str:
    kind = fault.kind.value
    return f"{kind}-{fault.status}" if fault.kind is FaultKind.ERROR else kind


def plan_of(served, system: ExternalSystem):
    return getattr(served.simulators, system.value).plan


def operation(target: Target, network) -> str:
    return target.operation.replace("{po}", network.goods_receipts[0].purchase_order_id)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.system.value)
@pytest.mark.parametrize("fault", RETRIED_THEN_FINE, ids=fault_id)
async def test_a_passing_fault_is_retried_once_and_the_call_succeeds(
    stack, served, network, target, fault
):
    plan = plan_of(served, target.system)
    plan.add(Fault(fault.kind, operation(target, network), 1, fault.seconds, fault.status, 1))

    await target.call(stack, network)

    assert plan.calls[operation(target, network)] == 2
    assert len(stack.sleeps.waits) == 1  # one wait before the one retry
    if fault.kind is FaultKind.RATE_LIMIT:
        assert stack.sleeps.waits == [1.0]


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.system.value)
async def test_latency_within_the_deadline_is_not_a_failure(stack, served, network, target):
    plan = plan_of(served, target.system)
    plan.add(Fault(FaultKind.LATENCY, operation(target, network), seconds=0.05))

    await target.call(stack, network)

    assert plan.calls[operation(target, network)] == 1


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.system.value)
async def test_a_4xx_is_a_rejection_and_never_retried(stack, served, network, target):
    plan = plan_of(served, target.system)
    plan.add(Fault(FaultKind.ERROR, operation(target, network), times=None, status=422))

    with pytest.raises(ConnectorRejected):
        await target.call(stack, network)

    assert plan.calls[operation(target, network)] == 1


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.system.value)
async def test_an_unreadable_answer_is_a_mapping_error_and_never_retried(
    stack, served, network, target
):
    plan = plan_of(served, target.system)
    plan.add(Fault(FaultKind.MALFORMED, operation(target, network), times=None))

    with pytest.raises(ConnectorMappingError) as failed:
        await target.call(stack, network)

    assert failed.value.field == "(body)"
    assert plan.calls[operation(target, network)] == 1
