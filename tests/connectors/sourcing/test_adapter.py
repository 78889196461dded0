"""Contract prices from the sourcing simulator over loopback."""

from datetime import timedelta

import pytest

from apgraph.domain.codes import ConnectorCode
from apgraph.services.ports.connectors import ConnectorError, ConnectorMappingError
from apgraph.simulators.faults import Fault, FaultKind

LINES = "GET /v1/agreement-lines"


@pytest.fixture
def sourcing(served):
    return served.simulators.sourcing


async def test_the_contract_valid_on_the_day_is_the_price(stack, network):
    contract = network.contract_prices[0]

    found = await stack.sourcing.price_for(
        supplier_id=contract.supplier_id, item_id=contract.item_id, on=contract.valid_to
    )

    assert found == contract


async def test_no_contract_is_valid_the_day_after_it_ends(stack, network):
    contract = network.contract_prices[0]

    found = await stack.sourcing.price_for(
        supplier_id=contract.supplier_id,
        item_id=contract.item_id,
        on=contract.valid_to + timedelta(days=1),
    )

    assert found is None


async def test_a_rejected_request_is_not_retried(stack, sourcing, network):
    contract = network.contract_prices[0]
    sourcing.plan.add(Fault(FaultKind.ERROR, status=400))

    with pytest.raises(ConnectorError) as failed:
        await stack.sourcing.price_for(
            supplier_id=contract.supplier_id, item_id=contract.item_id, on=contract.valid_from
        )

    assert failed.value.code is ConnectorCode.SOURCING_REJECTED
    assert sourcing.plan.calls[LINES] == 1


async def test_a_price_without_its_value_is_a_mapping_error(stack, sourcing, network):
    contract = network.contract_prices[0]
    sourcing.plan.add(Fault(FaultKind.MALFORMED, field="value"))

    with pytest.raises(ConnectorMappingError) as failed:
        await stack.sourcing.price_for(
            supplier_id=contract.supplier_id, item_id=contract.item_id, on=contract.valid_from
        )

    assert failed.value.field == "value"
