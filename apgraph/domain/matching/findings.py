"""One reason the match found on one invoice line, with the figures an approver needs; or
one about the invoice as a whole (domain/review.py)."""

from dataclasses import dataclass
from decimal import Decimal

from apgraph.domain.codes import MatchCode
from apgraph.domain.invoices import InvoiceException

_SAYS = {
    MatchCode.MISSING_RECEIPT: "no goods receipt for the billed PO line (billed {actual})",
    MatchCode.QTY_VARIANCE: "billed {actual} in all, received {expected}",
    MatchCode.OVER_BILLED: "billed {actual} in all, ordered {expected}",
    MatchCode.PRICE_VARIANCE: "unit price {actual}, PO price {expected}",
    MatchCode.CONTRACT_PRICE_VARIANCE: "unit price {actual}, contract price {expected}",
    MatchCode.CONTRACT_PRICE_UNAVAILABLE: (
        "contract prices unavailable; matched on the PO price {expected} (billed {actual})"
    ),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One code on one invoice line, with the figures behind it.

    `expected` is what the rule compared against (received, ordered, a price), `actual` the
    billed figure; quantities are cumulative over the PO line, prices per unit.

    `blocking=False` only for a CONTRACT_PRICE_UNAVAILABLE the policy says to `flag`: it is
    recorded on the invoice but does not stop it from posting.
    """

    code: MatchCode
    line_no: int
    expected: Decimal
    actual: Decimal
    blocking: bool = True

    @property
    def message(self) -> str:
        return _SAYS[self.code].format(expected=self.expected, actual=self.actual)

    def as_exception(self) -> InvoiceException:
        """As the invoice records it (the exceptions an approver works through)."""
        return InvoiceException(code=self.code.value, line_no=self.line_no, message=self.message)


@dataclass(frozen=True, slots=True)
class InvoiceFinding:
    """One code about the whole invoice (a possible duplicate, its dates, its total), with a
    message that names what the approver should look at. Always blocking: it is held for a
    person to look at."""

    code: MatchCode
    message: str
    blocking: bool = True

    def as_exception(self) -> InvoiceException:
        return InvoiceException(code=self.code.value, line_no=None, message=self.message)
