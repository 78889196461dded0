"""CONTRACT_PRICE_VARIANCE against the contract of the day; CONTRACT_PRICE_UNAVAILABLE without one.

Currency was settled by CURRENCY_MISMATCH against the PO; a contract agreed in another
currency than the invoice's is not comparable and never applies.
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from apgraph.domain.codes import MatchCode
from apgraph.domain.matching.findings import Finding
from apgraph.domain.matching.rules import SourcingDown
from apgraph.domain.matching.tolerance import Tolerance
from apgraph.domain.purchasing import ContractPrice


def contract_on(
    contracts: Iterable[ContractPrice],
    *,
    supplier_id: str,
    item_id: str,
    currency: str,
    day: date,
) -> ContractPrice | None:
    """The contract of (invoice supplier, PO line item) valid on `day`, from and to inclusive.

    None when no contract is valid that day: then there is no contract check. When two are
    (a renewal overlapping the contract it replaces), the one that started last is the one in
    force; on the same start day, the lower price.
    """
    valid = [
        contract
        for contract in contracts
        if contract.supplier_id == supplier_id
        and contract.item_id == item_id
        and contract.currency == currency
        and contract.valid_on(day)
    ]
    if not valid:
        return None
    return min(valid, key=lambda contract: (-contract.valid_from.toordinal(), contract.unit_price))


def check_contract_price(
    *, line_no: int, billed: Decimal, contract: ContractPrice, tolerance: Tolerance
) -> Finding | None:
    """The category's price tolerance, taken of the contract price; cheaper never flags."""
    if not tolerance.exceeded_by(billed, contract.unit_price):
        return None
    return Finding(
        MatchCode.CONTRACT_PRICE_VARIANCE, line_no, expected=contract.unit_price, actual=billed
    )


def contract_unavailable(
    *, line_no: int, billed: Decimal, ordered: Decimal, when_down: SourcingDown
) -> Finding:
    """Sourcing is down: the line was matched on the PO price only, and says so.

    Whether that stops the invoice is the category's policy: `flag` posts it anyway, `block`
    (contract pricing mandatory, e.g. pharmacy) sends it to an approver.
    """
    return Finding(
        MatchCode.CONTRACT_PRICE_UNAVAILABLE,
        line_no,
        expected=ordered,
        actual=billed,
        blocking=when_down is SourcingDown.BLOCK,
    )
