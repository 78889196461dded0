"""An invoice as a supplier submits it, and whether it is fit to be stored at all.

`check_input` is the gate before anything is written: a refused submission leaves no trace
and comes back as user errors with field paths. Whether a well-formed invoice is *valid*
(known supplier, open PO, totals that add up, not a duplicate) is validation.py's question;
its answer is stored, as a REJECTED invoice with reason codes the supplier can act on.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from apgraph.domain.codes import ProblemCode
from apgraph.domain.ids import CostCenterId, FacilityId, PurchaseOrderId, SupplierId
from apgraph.domain.invoices import InvoiceLine
from apgraph.domain.money import MINOR_UNITS
from apgraph.domain.problems import FieldPath, Problem
from apgraph.domain.purchasing import PurchaseOrderLine

MAX_LINES = 1000
MAX_TEXT = {  # characters, as the ledger stores them
    "supplier_invoice_number": 64,
    "description": 300,
    "unit_of_measure": 16,
    "item_id": 64,
}
LEDGER_PLACES = 4  # unit prices and quantities: a vial is priced to the hundredth of a cent
LARGEST = Decimal(10**12)  # no hospital bills a trillion; keeps the arithmetic well in range
# A supplier a day ahead of UTC (Asia, Oceania) may date today's invoice "tomorrow".
FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SubmittedLine:
    po_line_no: int | None  # the PO line it bills; None on a non-PO invoice
    description: str
    quantity: Decimal
    unit_of_measure: str
    unit_price: Decimal
    amount: Decimal  # as the supplier computed it; TOTALS_MISMATCH compares it
    item_id: str | None = None  # the supplier's own item number, if it sends one


@dataclass(frozen=True, slots=True)
class SubmittedInvoice:
    supplier_id: SupplierId
    supplier_invoice_number: str
    facility_id: FacilityId
    cost_center_id: CostCenterId
    purchase_order_id: PurchaseOrderId | None  # None: a non-PO invoice
    invoice_date: date
    currency: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    lines: tuple[SubmittedLine, ...]

    def invoice_lines(self) -> tuple[InvoiceLine, ...]:
        """The lines as the invoice keeps them, numbered from 1 in the order submitted."""
        return tuple(
            InvoiceLine(
                line_no=number,
                po_line_no=line.po_line_no,
                item_id=line.item_id,
                description=line.description,
                quantity=line.quantity,
                unit_of_measure=line.unit_of_measure,
                unit_price=line.unit_price,
                amount=line.amount,
            )
            for number, line in enumerate(self.lines, start=1)
        )


def check_input(
    submitted: SubmittedInvoice,
    *,
    order_lines: Sequence[PurchaseOrderLine] | None,
    at: datetime,
) -> tuple[Problem, ...]:
    """Every reason the submission cannot be stored, each with the path of the field at fault.

    Paths name the `submitInvoice` input as GraphQL spells it: ("input", "lines", "2",
    "quantity") is the third line's quantity. `order_lines` are the lines of the PO the
    invoice names, None when there is no such PO (validation reports PO_NOT_FOUND, so PO
    lines are not checked then). `at` is now; an invoice dated after tomorrow is refused.
    Over MAX_LINES the lines are not looked at one by one.
    """
    return tuple(_problems(submitted, order_lines, at))


def _problems(
    submitted: SubmittedInvoice, order_lines: Sequence[PurchaseOrderLine] | None, at: datetime
) -> Iterator[Problem]:
    yield from _text(submitted.supplier_invoice_number, "supplier_invoice_number", ())
    places = MINOR_UNITS.get(submitted.currency)
    if places is None:
        yield Problem(
            ProblemCode.UNKNOWN_CURRENCY,
            f"not a currency the network bills in ({', '.join(sorted(MINOR_UNITS))})",
            _path((), "currency"),
        )
    if submitted.invoice_date > at.date() + FUTURE_SLACK:
        yield Problem(
            ProblemCode.INVOICE_DATE_IN_FUTURE,
            f"dated {submitted.invoice_date}, after tomorrow",
            _path((), "invoice_date"),
        )
    for name in ("subtotal", "tax", "total"):
        yield from _amount(getattr(submitted, name), name, (), places)
    if not submitted.lines:
        yield Problem(
            ProblemCode.NO_LINES, "an invoice bills at least one line", _path((), "lines")
        )
        return
    if len(submitted.lines) > MAX_LINES:
        yield Problem(
            ProblemCode.TOO_MANY_LINES,
            f"{len(submitted.lines)} lines; one invoice carries at most {MAX_LINES}",
            _path((), "lines"),
        )
        return
    ordered = None if order_lines is None else {line.line_no: line for line in order_lines}
    for index, line in enumerate(submitted.lines):
        at_line = ("lines", str(index))
        yield from _text(line.description, "description", at_line, required=False)
        unit = list(_text(line.unit_of_measure, "unit_of_measure", at_line))
        yield from unit
        if line.item_id is not None:
            yield from _text(line.item_id, "item_id", at_line, required=False)
        yield from _quantity(line.quantity, at_line)
        yield from _amount(line.unit_price, "unit_price", at_line, LEDGER_PLACES)
        yield from _amount(line.amount, "amount", at_line, places)
        yield from _po_line(submitted, line, at_line, ordered, compare_unit=not unit)


def _po_line(
    submitted: SubmittedInvoice,
    line: SubmittedLine,
    at_line: FieldPath,
    ordered: dict[int, PurchaseOrderLine] | None,
    *,
    compare_unit: bool,
) -> Iterator[Problem]:
    """`compare_unit` False: the line's unit was refused already, so it is not compared too."""
    where = _path(at_line, "po_line_no")
    if submitted.purchase_order_id is None:
        if line.po_line_no is not None:
            yield Problem(
                ProblemCode.UNKNOWN_PO_LINE,
                f"PO line {line.po_line_no}, but the invoice names no purchase order",
                where,
            )
        return
    if line.po_line_no is None:
        yield Problem(
            ProblemCode.PO_LINE_REQUIRED,
            f"each line of an invoice against {submitted.purchase_order_id} names its PO line",
            where,
        )
        return
    if ordered is None:
        return
    po_line = ordered.get(line.po_line_no)
    if po_line is None:
        yield Problem(
            ProblemCode.UNKNOWN_PO_LINE,
            f"{submitted.purchase_order_id} has no line {line.po_line_no}",
            where,
        )
    elif compare_unit and _same_unit(po_line.unit_of_measure) != _same_unit(line.unit_of_measure):
        yield Problem(
            ProblemCode.UNIT_OF_MEASURE_MISMATCH,
            f"PO line {po_line.line_no} orders in {po_line.unit_of_measure!r}",
            _path(at_line, "unit_of_measure"),
        )


def _text(value: str, name: str, under: FieldPath, *, required: bool = True) -> Iterator[Problem]:
    where = _path(under, name)
    if required and not value.strip():
        yield Problem(ProblemCode.FIELD_REQUIRED, "must not be blank", where)
    elif len(value) > MAX_TEXT[name]:
        yield Problem(
            ProblemCode.FIELD_TOO_LONG,
            f"{len(value)} characters; at most {MAX_TEXT[name]}",
            where,
        )


def _quantity(value: Decimal, under: FieldPath) -> Iterator[Problem]:
    where = _path(under, "quantity")
    if not value.is_finite() or value <= 0 or value > LARGEST:
        yield Problem(ProblemCode.INVALID_QUANTITY, f"must be above 0 and at most {LARGEST}", where)
    elif _has_more_places(value, LEDGER_PLACES):
        yield Problem(ProblemCode.TOO_MANY_DECIMALS, f"at most {LEDGER_PLACES} decimals", where)


def _amount(value: Decimal, name: str, under: FieldPath, places: int | None) -> Iterator[Problem]:
    """`places` None: the currency is unknown (reported on its own), so decimals are not judged."""
    where = _path(under, name)
    if not value.is_finite() or value < 0 or value > LARGEST:
        yield Problem(ProblemCode.INVALID_AMOUNT, f"must be 0 or more and at most {LARGEST}", where)
    elif places is not None and _has_more_places(value, places):
        yield Problem(ProblemCode.TOO_MANY_DECIMALS, f"at most {places} decimals", where)


def _has_more_places(value: Decimal, places: int) -> bool:
    """By value: 10.500 has two places' worth of precision, not three."""
    return value != value.quantize(Decimal(1).scaleb(-places))


def _same_unit(unit: str) -> str:
    return unit.strip().casefold()


def _path(under: FieldPath, field: str) -> FieldPath:
    """("input", *under, field) with the field in GraphQL's camelCase."""
    head, *rest = field.split("_")
    return ("input", *under, head + "".join(part.title() for part in rest))
