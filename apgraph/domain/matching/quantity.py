"""MISSING_RECEIPT, QTY_VARIANCE and OVER_BILLED: what was billed on a PO line, in all.

`billed` is cumulative: this invoice plus every earlier non-rejected invoice on the PO line
(match.py adds them up). The receipt rule and the order rule are independent: one PO line
can be both billed beyond what arrived and beyond what was ordered.
"""

from decimal import Decimal

from apgraph.domain.codes import MatchCode
from apgraph.domain.matching.findings import Finding
from apgraph.domain.matching.tolerance import Tolerance


def check_received(
    *,
    line_no: int,
    billed: Decimal,
    received: Decimal | None,
    tolerance: Tolerance,
    receipt_required: bool,
) -> Finding | None:
    """`received` is None when no receipt at all was booked for the PO line.

    Then the line is MISSING_RECEIPT if its category needs a receipt, and never QTY_VARIANCE;
    if it does not, there is nothing to compare and the line is matched two-way (PO × invoice).
    The tolerance is taken of the received quantity; billing less than arrived never flags.
    """
    if received is None:
        if not receipt_required:
            return None
        return Finding(MatchCode.MISSING_RECEIPT, line_no, expected=Decimal(0), actual=billed)
    if not tolerance.exceeded_by(billed, received):
        return None
    return Finding(MatchCode.QTY_VARIANCE, line_no, expected=received, actual=billed)


def check_ordered(*, line_no: int, billed: Decimal, ordered: Decimal) -> Finding | None:
    """No tolerance: nobody pays for more than the PO ordered, whatever arrived."""
    if billed <= ordered:
        return None
    return Finding(MatchCode.OVER_BILLED, line_no, expected=ordered, actual=billed)
