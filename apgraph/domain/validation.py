"""Whether a submitted invoice is valid: DESIGN §4 "Validation and matching, precisely".

Every check runs and every failing code is reported, once, in ValidationCode order, so the
supplier fixes everything in one go. An invalid invoice is REJECTED with these codes; the
supplier may resubmit a corrected one with the same number.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from apgraph.domain.codes import ValidationCode
from apgraph.domain.facilities import CostCenter
from apgraph.domain.invoice_numbers import NumberRules
from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.master_data import Reason, check_purchase_order
from apgraph.domain.money import MINOR_UNITS, round_half_up
from apgraph.domain.purchasing import PurchaseOrder
from apgraph.domain.submission import SubmittedInvoice
from apgraph.domain.suppliers import Supplier, SupplierStatus, TaxTreatment

LINE_AMOUNT_TOLERANCE = Decimal("0.01")  # a line may round qty × unit price its own way
TAX_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class ValidationFacts:
    """What the service looked up for the submission; None where nothing was found."""

    supplier: Supplier | None
    purchase_order: PurchaseOrder | None  # the PO the invoice names; None if absent or unknown
    cost_center: CostCenter | None
    # the supplier's stored invoices, not this one: all, or at least those the duplicate
    # rule could flag (the same currency and total, or the same number key)
    invoices_on_file: Sequence[Invoice] = ()


def validate_invoice(
    submitted: SubmittedInvoice,
    facts: ValidationFacts,
    *,
    duplicate_window_days: int,
    numbers: NumberRules | None = None,
) -> tuple[Reason, ...]:
    """Every reason the invoice is invalid; empty when it is valid.

    PO_NOT_FOUND skips the checks that need the PO (closed, supplier, facility, currency);
    TAX_MISMATCH is skipped when the supplier is unknown (a blocked supplier is still known).
    A non-PO invoice has no PO checks at all. `duplicate_window_days` is policy (default 7);
    `numbers` says when two invoice numbers are one (invoice_numbers.py; every step but the
    confusables table by default).
    Expects a submission `check_input` accepted (finite amounts, a known currency).
    """
    return tuple(_reasons(submitted, facts, duplicate_window_days, numbers or NumberRules()))


def _reasons(
    submitted: SubmittedInvoice, facts: ValidationFacts, window: int, numbers: NumberRules
) -> Iterator[Reason]:
    order = facts.purchase_order if submitted.purchase_order_id is not None else None
    yield from _master_data(submitted, facts.supplier, order, facts.cost_center)
    if facts.supplier is not None and (tax := _tax_mismatch(submitted, facts.supplier)):
        yield tax
    if totals := _totals_mismatch(submitted):
        yield totals
    if currency := _currency_mismatch(submitted, order):
        yield currency
    if duplicate := _duplicate(submitted, facts.invoices_on_file, window, numbers):
        yield duplicate


@dataclass(frozen=True, slots=True)
class PostingFacts:
    """The master data an invoice's validation rested on, as it stands when it is to post."""

    supplier: Supplier | None
    purchase_order: PurchaseOrder | None  # None: a non-PO invoice, or the PO is gone
    cost_center: CostCenter | None


def recheck_before_posting(invoice: Invoice, facts: PostingFacts) -> tuple[Reason, ...]:
    """The validation reasons that hold now, for an invoice about to go to the ERP.

    An invoice may wait in EXCEPTION (or VALIDATED) for days; meanwhile its supplier may be
    blocked, its PO closed, its cost center retired. What validation refuses for a new
    invoice it refuses for this one, checked again in the unit of work that decides to post:
    the supplier, the PO (open, the supplier's, the facility's), the cost center and the
    currency. What the invoice itself says (totals, tax) cannot have changed; duplicates were
    decided under the supplier's lock when it was stored.
    """
    order = facts.purchase_order if invoice.purchase_order_id is not None else None
    reasons = list(_master_data(invoice, facts.supplier, order, facts.cost_center))
    if currency := _currency_mismatch(invoice, order):
        reasons.append(currency)
    return tuple(reasons)


def _master_data(
    invoice: SubmittedInvoice | Invoice,
    supplier: Supplier | None,
    order: PurchaseOrder | None,
    center: CostCenter | None,
) -> Iterator[Reason]:
    if supplier is None:
        yield Reason(ValidationCode.SUPPLIER_UNKNOWN, f"no supplier {invoice.supplier_id}")
    elif not supplier.status.may_bill:
        yield Reason(ValidationCode.SUPPLIER_BLOCKED, _may_not_bill(supplier))
    if invoice.purchase_order_id is not None:
        yield from check_purchase_order(
            order,
            purchase_order_id=invoice.purchase_order_id,
            supplier_id=invoice.supplier_id,
            facility_id=invoice.facility_id,
        )
    yield from _cost_center(invoice, center)


def _currency_mismatch(
    invoice: SubmittedInvoice | Invoice, order: PurchaseOrder | None
) -> Reason | None:
    if order is None or order.currency == invoice.currency:
        return None
    return Reason(
        ValidationCode.CURRENCY_MISMATCH,
        f"billed in {invoice.currency}; {order.id} is in {order.currency}",
    )


def _may_not_bill(supplier: Supplier) -> str:
    """ON_HOLD suppliers bill as usual: their hold stops payments (SupplierStatus.may_bill)."""
    if supplier.status is SupplierStatus.ONBOARDING:
        return f"{supplier.id} is still onboarding; resubmit once its set-up is complete"
    return f"{supplier.id} is blocked"


def _cost_center(
    submitted: SubmittedInvoice | Invoice, center: CostCenter | None
) -> Iterator[Reason]:
    """COST_CENTER_INVALID covers unknown and inactive; the facility is checked either way."""
    if center is None:
        yield Reason(
            ValidationCode.COST_CENTER_INVALID, f"no cost center {submitted.cost_center_id}"
        )
        return
    if not center.active:
        yield Reason(ValidationCode.COST_CENTER_INVALID, f"cost center {center.id} is inactive")
    if center.facility_id != submitted.facility_id:
        yield Reason(
            ValidationCode.COST_CENTER_FACILITY_MISMATCH,
            f"cost center {center.id} belongs to {center.facility_id}, not {submitted.facility_id}",
        )


def _tax_mismatch(submitted: SubmittedInvoice, supplier: Supplier) -> Reason | None:
    """EXEMPT bills 0.00 exactly; STANDARD bills round-half-up(subtotal × rate), ± 0.01.

    Rounded to the currency's minor units: 2 places for every currency but JPY.
    """
    if supplier.tax_treatment is TaxTreatment.EXEMPT:
        if submitted.tax == 0:
            return None
        return Reason(
            ValidationCode.TAX_MISMATCH, f"{supplier.id} is tax exempt; billed tax {submitted.tax}"
        )
    places = MINOR_UNITS.get(submitted.currency, 2)
    expected = round_half_up(submitted.subtotal * supplier.tax_rate, places)
    if abs(submitted.tax - expected) <= TAX_TOLERANCE:
        return None
    return Reason(
        ValidationCode.TAX_MISMATCH,
        f"tax {submitted.tax}; {supplier.tax_rate} of {submitted.subtotal} is {expected}",
    )


def _totals_mismatch(submitted: SubmittedInvoice) -> Reason | None:
    """The first of the three sums that does not add up; one code however many do not."""
    for number, line in enumerate(submitted.lines, start=1):
        if abs(line.amount - line.quantity * line.unit_price) > LINE_AMOUNT_TOLERANCE:
            return Reason(
                ValidationCode.TOTALS_MISMATCH,
                f"line {number}: {line.quantity} × {line.unit_price} is not {line.amount}",
            )
    lines_sum = sum((line.amount for line in submitted.lines), Decimal(0))
    if lines_sum != submitted.subtotal:
        return Reason(
            ValidationCode.TOTALS_MISMATCH,
            f"the lines add up to {lines_sum}, not the subtotal {submitted.subtotal}",
        )
    if submitted.subtotal + submitted.tax != submitted.total:
        return Reason(
            ValidationCode.TOTALS_MISMATCH,
            f"subtotal {submitted.subtotal} + tax {submitted.tax} is not {submitted.total}",
        )
    return None


def _duplicate(
    submitted: SubmittedInvoice, on_file: Sequence[Invoice], window: int, numbers: NumberRules
) -> Reason | None:
    """Against the supplier's earlier invoices that were not rejected, on any PO.

    Either the same invoice number however written (`numbers.key`), or the same currency and
    total dated at most `window` days apart, both ends inclusive.
    """
    number = numbers.key(submitted.supplier_invoice_number)
    for other in sorted(on_file, key=lambda invoice: (invoice.received_at, invoice.id)):
        if other.supplier_id != submitted.supplier_id or other.status is InvoiceStatus.REJECTED:
            continue
        if numbers.key(other.supplier_invoice_number) == number:
            return Reason(
                ValidationCode.DUPLICATE_INVOICE,
                f"invoice number {other.supplier_invoice_number!r} was billed as {other.id}",
            )
        apart = abs((other.invoice_date - submitted.invoice_date).days)
        if (
            other.currency == submitted.currency
            and other.total == submitted.total
            and (apart <= window)
        ):
            return Reason(
                ValidationCode.DUPLICATE_INVOICE,
                f"same currency and total as {other.id} ({other.supplier_invoice_number}), "
                f"dated {apart} days apart",
            )
    return None
