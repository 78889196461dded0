"""PRICE_VARIANCE: the billed unit price against the PO unit price."""

from decimal import Decimal

from apgraph.domain.codes import MatchCode
from apgraph.domain.matching.findings import Finding
from apgraph.domain.matching.tolerance import Tolerance


def check_unit_price(
    *, line_no: int, billed: Decimal, ordered: Decimal, tolerance: Tolerance
) -> Finding | None:
    """Only overruns need an approver: billing under the PO price is never an exception."""
    if not tolerance.exceeded_by(billed, ordered):
        return None
    return Finding(MatchCode.PRICE_VARIANCE, line_no, expected=ordered, actual=billed)
