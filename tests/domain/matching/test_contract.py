"""The contract of (invoice supplier, PO line item) valid on the invoice date, and its price."""

from datetime import date
from decimal import Decimal

import pytest

from apgraph.domain.codes import MatchCode
from apgraph.domain.matching.contract import (
    check_contract_price,
    contract_on,
    contract_unavailable,
)
from apgraph.domain.matching.rules import SourcingDown
from apgraph.domain.matching.tolerance import Tolerance
from tests.domain.examples import SUPPLIER, contract

ITEM = "ITM-MS-10001"
STRICT = Tolerance(percent=Decimal("0"), absolute=Decimal("0"))
SUPPLIES = Tolerance(percent=Decimal("2"), absolute=Decimal("5.00"))
JAN_TO_JUN = contract("9.50", valid_from=date(2026, 1, 1), valid_to=date(2026, 6, 30))


def find(contracts, *, day, supplier_id=SUPPLIER, item_id=ITEM, currency="USD"):
    return contract_on(
        contracts, supplier_id=supplier_id, item_id=item_id, currency=currency, day=day
    )


@pytest.mark.parametrize(
    ("day", "found"),
    [
        (date(2026, 1, 1), True),  # valid from, inclusive
        (date(2026, 6, 30), True),  # valid to, inclusive
        (date(2025, 12, 31), False),
        (date(2026, 7, 1), False),
    ],
)
def test_a_contract_applies_from_and_to_its_dates_inclusive(day, found):
    assert (find([JAN_TO_JUN], day=day) is JAN_TO_JUN) is found


@pytest.mark.parametrize(
    "other",
    [
        contract(supplier_id="SUP-000002"),  # another supplier's contract for the item
        contract(item_id="ITM-MS-99999"),  # the supplier's contract for another item
        contract(currency="EUR"),  # not comparable with a USD invoice
    ],
)
def test_only_the_invoice_suppliers_contract_for_the_po_line_item_applies(other):
    assert find([other], day=date(2026, 3, 1)) is None


def test_of_two_overlapping_contracts_the_later_one_is_in_force():
    renewal = contract("9.80", valid_from=date(2026, 6, 1), valid_to=date(2027, 5, 31), number=2)
    assert find([JAN_TO_JUN, renewal], day=date(2026, 6, 15)) is renewal
    assert find([renewal, JAN_TO_JUN], day=date(2026, 5, 31)) is JAN_TO_JUN


def test_of_two_contracts_starting_the_same_day_the_lower_price_is_in_force():
    cheaper = contract("9.40", number=2)
    assert find([contract("9.50"), cheaper], day=date(2026, 3, 1)) is cheaper


@pytest.mark.parametrize(
    ("billed", "tolerance", "expected"),
    [
        ("9.50", STRICT, None),
        ("9.51", STRICT, MatchCode.CONTRACT_PRICE_VARIANCE),
        ("9.69", SUPPLIES, None),  # 2 % of the contract price 9.50 is 0.19
        ("9.70", SUPPLIES, MatchCode.CONTRACT_PRICE_VARIANCE),
        ("9.00", STRICT, None),  # cheaper than the contract never flags
    ],
)
def test_the_category_price_tolerance_applies_to_the_contract_price(billed, tolerance, expected):
    finding = check_contract_price(
        line_no=1, billed=Decimal(billed), contract=contract("9.50"), tolerance=tolerance
    )
    assert (finding.code if finding else None) == expected


@pytest.mark.parametrize(
    ("when_down", "blocking"), [(SourcingDown.FLAG, False), (SourcingDown.BLOCK, True)]
)
def test_contract_price_unavailable_blocks_only_where_policy_says_block(when_down, blocking):
    finding = contract_unavailable(
        line_no=1, billed=Decimal("10.00"), ordered=Decimal("10.00"), when_down=when_down
    )
    assert finding.code is MatchCode.CONTRACT_PRICE_UNAVAILABLE
    assert finding.blocking is blocking
