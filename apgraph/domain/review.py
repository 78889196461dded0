"""Invoices held for a person to look at, though nothing on their face is wrong.

Validation rejects what is invalid and the three-way match flags what disagrees with the PO
and the receipts; these checks catch what an auditor looks for besides, and send the invoice
to EXCEPTION (an approver decides) instead of posting it:

- POSSIBLE_DUPLICATE: an earlier invoice of the supplier, not rejected, with the same
  currency and total, dated outside the duplicate window (inside it, validation rejects it
  as DUPLICATE_INVOICE), whose number is equal once normalized (invoice_numbers.py) or
  within `near_duplicate_distance` edits of it.
- INVOICE_PREDATES_PO: dated before its PO's order date.
- STALE_INVOICE: dated more than `stale_after_days` before it reached apgraph.
- ZERO_TOTAL: totals zero, where the policy holds zero-value documents.

Every knob is policy (gateway.yaml `matching`).
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from apgraph.domain.codes import MatchCode
from apgraph.domain.invoice_numbers import NumberRules, edit_distance
from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.matching.findings import InvoiceFinding
from apgraph.domain.purchasing import PurchaseOrder


@dataclass(frozen=True, slots=True)
class ReviewRules:
    numbers: NumberRules = field(default_factory=NumberRules)
    near_duplicate_distance: int = 1  # edits between normalized numbers
    stale_after_days: int = 365
    hold_zero_total: bool = True


def review_invoice(
    invoice: Invoice,
    *,
    order: PurchaseOrder | None,
    on_file: Sequence[Invoice],
    rules: ReviewRules,
    duplicate_window_days: int,
) -> tuple[InvoiceFinding, ...]:
    """Every reason to hold `invoice` for review, in MatchCode order.

    `order`: its PO (None for a non-PO invoice). `on_file`: the supplier's other invoices,
    as the duplicate rule takes them (rejected ones and the invoice itself are skipped): all,
    or at least those with its currency and total, the only ones POSSIBLE_DUPLICATE can name.
    """
    return tuple(_findings(invoice, order, on_file, rules, duplicate_window_days))


def _findings(
    invoice: Invoice,
    order: PurchaseOrder | None,
    on_file: Sequence[Invoice],
    rules: ReviewRules,
    window: int,
) -> Iterator[InvoiceFinding]:
    if twin := _possible_duplicate(invoice, on_file, rules, window):
        yield twin
    if order is not None and invoice.invoice_date < order.ordered_on:
        yield InvoiceFinding(
            MatchCode.INVOICE_PREDATES_PO,
            f"dated {invoice.invoice_date}, before {order.id} was ordered on {order.ordered_on}",
        )
    age = (invoice.received_at.date() - invoice.invoice_date).days
    if age > rules.stale_after_days:
        yield InvoiceFinding(
            MatchCode.STALE_INVOICE,
            f"dated {invoice.invoice_date}, {age} days before it was received "
            f"(more than {rules.stale_after_days})",
        )
    if rules.hold_zero_total and invoice.total == 0:
        yield InvoiceFinding(
            MatchCode.ZERO_TOTAL, f"totals {invoice.total} {invoice.currency}: nothing to book"
        )


def _possible_duplicate(
    invoice: Invoice, on_file: Sequence[Invoice], rules: ReviewRules, window: int
) -> InvoiceFinding | None:
    key = rules.numbers.key(invoice.supplier_invoice_number)
    for other in sorted(on_file, key=lambda other: (other.received_at, other.id)):
        if (
            other.id == invoice.id
            or other.supplier_id != invoice.supplier_id
            or other.status is InvoiceStatus.REJECTED
            or other.currency != invoice.currency
            or other.total != invoice.total
            or abs((other.invoice_date - invoice.invoice_date).days) <= window
        ):
            continue
        distance = edit_distance(
            key,
            rules.numbers.key(other.supplier_invoice_number),
            at_most=rules.near_duplicate_distance,
        )
        if distance <= rules.near_duplicate_distance:
            return InvoiceFinding(
                MatchCode.POSSIBLE_DUPLICATE,
                f"same total {invoice.total} {invoice.currency} as {other.id} "
                f"({other.supplier_invoice_number!r}, dated {other.invoice_date}); "
                + (
                    "the numbers are one once normalized"
                    if distance == 0
                    else f"the numbers are {distance} edit(s) apart"
                ),
            )
    return None
