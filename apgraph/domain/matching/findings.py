"""One reason the match found on one invoice line, with the figures an approver needs; or
one about the invoice as a whole (domain/review.py)."""

from dataclasses import dataclass, replace
from decimal import Decimal

from apgraph.domain.codes import MatchCode
from apgraph.domain.invoices import InvoiceException
from apgraph.domain.money import at_minor_units, plain

_QUANTITY_CODES = frozenset(
    {MatchCode.MISSING_RECEIPT, MatchCode.QTY_VARIANCE, MatchCode.OVER_BILLED}
)

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
    unit: str = ""  # quantities' unit of measure, for the message
    currency: str = ""  # prices' currency, for the message

    @property
    def message(self) -> str:
        """Quantities without trailing zeros and with their unit ("received 14 BX"), prices
        with their currency's places ("unit price 10.50 USD"), as a reader expects them."""
        return _SAYS[self.code].format(
            expected=self._figure(self.expected), actual=self._figure(self.actual)
        )

    def _figure(self, value: Decimal) -> str:
        if self.code in _QUANTITY_CODES:
            return f"{plain(value)} {self.unit}".rstrip()
        if not self.currency:
            return str(value)
        return f"{at_minor_units(value, self.currency)} {self.currency}"

    def described(self, *, unit: str, currency: str) -> "Finding":
        """The same finding, told in the line's unit of measure and the invoice's currency."""
        return replace(self, unit=unit, currency=currency)

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
