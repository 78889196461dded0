"""What a match is checked against outside apgraph (services/match_facts.py): the billed
items' contract prices are asked of sourcing at once, and a submission asks sourcing and
materials management at once, so it waits one round trip to them, not one per item and
system. Fake ports here: what is under test is only when each ask starts and ends."""

import asyncio
from collections.abc import Sequence
from datetime import date

import pytest

from apgraph.domain.ids import PurchaseOrderId, SupplierId
from apgraph.domain.purchasing import ContractPrice, GoodsReceipt
from apgraph.domain.systems import ExternalSystem
from apgraph.services import submission
from apgraph.services.match_facts import contracts_or_none
from apgraph.services.ports.connectors import ConnectorUnavailable
from tests.domain import examples

SUPPLIER = examples.SUPPLIER
DAY = examples.INVOICE_DATE


async def round_trip() -> None:
    """A few turns of the event loop, as an answer over the network takes: no time passes,
    and asks made at once (tasks started together, nested gathers) all start meanwhile."""
    for _ in range(10):
        await asyncio.sleep(0)


class Sourcing:
    """Answers each item after giving the event loop a turn, noting when each ask starts
    and ends; `failing` items raise what it is given."""

    def __init__(self, log: list[str], failing: dict[str, Exception] | None = None) -> None:
        self.log = log
        self.failing = failing or {}
        self.ended: list[str] = []

    async def price_for(self, *, supplier_id: SupplierId, item_id: str, on: date) -> ContractPrice:
        self.log.append(f"start {item_id}")
        await round_trip()
        self.log.append(f"end {item_id}")
        self.ended.append(item_id)
        if item_id in self.failing:
            raise self.failing[item_id]
        return examples.contract(item_id=item_id)


class Connectors:
    def __init__(self, sourcing: Sourcing) -> None:
        self.contract_prices = sourcing


async def contracts(sourcing: Sourcing, items: Sequence[str]) -> Sequence[ContractPrice] | None:
    lines = [
        examples.order_line(number, item_id=item) for number, item in enumerate(items, start=1)
    ]
    return await contracts_or_none(
        Connectors(sourcing),  # type: ignore[arg-type]  # only contract_prices is asked
        supplier_id=SUPPLIER,
        invoice_date=DAY,
        billed_po_lines={line.line_no for line in lines},
        order_lines=lines,
    )


async def test_the_billed_items_prices_are_asked_at_once_and_answered_in_item_order() -> None:
    # given three billed items
    log: list[str] = []

    # when their contracts are asked
    found = await contracts(Sourcing(log), ["ITEM-C", "ITEM-A", "ITEM-B"])

    # then every ask started before any ended, and the contracts come in item order
    assert log[:3] == ["start ITEM-A", "start ITEM-B", "start ITEM-C"]
    assert [c.item_id for c in found or ()] == ["ITEM-A", "ITEM-B", "ITEM-C"]


async def test_sourcing_down_for_one_item_is_sourcing_down_and_no_ask_is_left_running() -> None:
    # given sourcing failing for one of three items
    down = ConnectorUnavailable(ExternalSystem.SOURCING, "timed out")
    sourcing = Sourcing([], failing={"ITEM-B": down})

    # when their contracts are asked, then none is known: the invoice waits as before
    assert await contracts(sourcing, ["ITEM-A", "ITEM-B", "ITEM-C"]) is None
    # and every ask had ended by then
    assert sorted(sourcing.ended) == ["ITEM-A", "ITEM-B", "ITEM-C"]


async def test_an_error_that_is_not_a_connectors_is_raised_not_taken_for_sourcing_down() -> None:
    sourcing = Sourcing([], failing={"ITEM-A": KeyError("a bug")})

    with pytest.raises(KeyError, match="a bug"):
        await contracts(sourcing, ["ITEM-A", "ITEM-B"])


class Materials:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def receipts_for(self, purchase_order_id: PurchaseOrderId) -> Sequence[GoodsReceipt]:
        self.log.append("start receipts")
        await round_trip()
        self.log.append("end receipts")
        return ()


class BothSystems(Connectors):
    def __init__(self, log: list[str]) -> None:
        super().__init__(Sourcing(log))
        self.goods_receipts = Materials(log)


async def test_a_submission_asks_materials_management_and_sourcing_at_once() -> None:
    # given an invoice billing two items of a PO the store holds
    log: list[str] = []
    lines = [examples.order_line(1, item_id="ITEM-A"), examples.order_line(2, item_id="ITEM-B")]
    invoice = examples.submitted(
        examples.submitted_line(po_line_no=1), examples.submitted_line(po_line_no=2)
    )
    stored = submission._Stored(
        supplier=None,
        facility_known=True,
        cost_center=None,
        order=examples.order(),
        order_lines=lines,
    )

    # when the submission asks what the match is checked against
    facts = await submission._facts(BothSystems(log), invoice, stored)  # type: ignore[arg-type]

    # then the receipts and both items' prices were asked before any answer came
    assert sorted(log[:3]) == ["start ITEM-A", "start ITEM-B", "start receipts"]
    assert facts.receipts == ()
    assert [c.item_id for c in facts.contracts or ()] == ["ITEM-A", "ITEM-B"]
