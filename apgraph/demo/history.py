"""The events of the history the demo network seeds: one per status change, as the
lifecycle would have emitted it, so `invoiceEvents` and `events` on a demo invoice tell the
same story as its status history (pure; the writer puts them in the outbox).
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence

from apgraph.demo.generator import DemoNetwork
from apgraph.domain.events import (
    Event,
    InvoiceHeld,
    InvoiceMatched,
    InvoiceMatchFailed,
    InvoicePosted,
    InvoicePostingFailed,
    InvoiceReceived,
    InvoiceRejected,
    InvoiceReleased,
    InvoiceValidated,
    PaymentReleased,
    PaymentScheduled,
    RemittanceSent,
)
from apgraph.domain.ids import InvoiceId
from apgraph.domain.invoices import Invoice, InvoiceStatus, StatusChange
from apgraph.domain.lifecycle import VALIDATION_ACTOR
from apgraph.domain.payments import Payment

S = InvoiceStatus


def history_events(network: DemoNetwork) -> list[Event]:
    """Every status change's event, in the order they happened (oldest first)."""
    invoices = {invoice.id: invoice for invoice in network.invoices}
    codes: dict[str, list[str]] = defaultdict(list)
    for invoice_id, found in network.invoice_exceptions:
        if found.code not in codes[invoice_id]:
            codes[invoice_id].append(found.code)
    payments = {payment.id: payment for payment in network.payments}
    paid_by = {a.invoice_id: payments[a.payment_id] for a in network.payment_allocations}
    ordered = sorted(network.status_changes, key=lambda c: (c.at, c.invoice_id, c.sequence))
    return [
        _event_of(change, invoices[change.invoice_id], codes[change.invoice_id], paid_by)
        for change in ordered
    ]


def _event_of(
    change: StatusChange,
    invoice: Invoice,
    codes: Sequence[str],
    paid_by: Mapping[InvoiceId, Payment],
) -> Event:
    about = (invoice.id, invoice.supplier_id, invoice.facility_id, change.at)
    payment = paid_by.get(invoice.id)
    match change.to_status:
        case S.RECEIVED:
            return InvoiceReceived(*about, supplier_invoice_number=invoice.supplier_invoice_number)
        case S.VALIDATED:
            return InvoiceValidated(*about)
        case S.REJECTED if change.from_status is S.RECEIVED:
            return InvoiceRejected(
                *about, codes=tuple(codes), reason=None, rejected_by=VALIDATION_ACTOR
            )
        case S.REJECTED:
            return InvoiceRejected(*about, codes=(), reason=change.note, rejected_by=change.actor)
        case S.MATCHED:
            return InvoiceMatched(*about, flags=())
        case S.EXCEPTION if change.from_status is S.ON_HOLD:
            return InvoiceReleased(*about, released_by=change.actor)
        case S.EXCEPTION:
            return InvoiceMatchFailed(*about, codes=tuple(codes))
        case S.ON_HOLD:
            return InvoiceHeld(*about, held_by=change.actor, reason=change.note or "")
        case S.POSTED:
            return InvoicePosted(*about, erp_document_ref=invoice.erp_document_ref or "")
        case S.POSTING_FAILED:
            return InvoicePostingFailed(*about, reason=change.note or "ERP unavailable")
    if payment is None:
        raise ValueError(f"{invoice.id} is {change.to_status.value} without a payment")
    match change.to_status:
        case S.SCHEDULED:
            return PaymentScheduled(
                *about, payment_id=payment.id, scheduled_date=payment.scheduled_date
            )
        case S.PAID:
            return PaymentReleased(*about, payment_id=payment.id)
        case S.REMITTED:
            return RemittanceSent(
                *about, payment_id=payment.id, remittance_ref=payment.remittance_ref or ""
            )
    raise ValueError(f"no event for {change.to_status}")
