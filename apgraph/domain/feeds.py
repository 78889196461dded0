"""Which committed events each live feed carries, decided from the event alone (pure).

Subscriptions and webhooks read events as the outbox stored them (type and payload), so the
rules are written against those: the invoice's status after an event, whether it belongs to
the payment feed, and how it changes an exception queue.
"""

from collections.abc import Mapping
from enum import Enum

from apgraph.domain.event_payloads import EVENT_TYPES
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.lifecycle import VALIDATION_ACTOR

PAYMENT_FAMILIES = ("payment.", "remittance.")


class QueueChange(Enum):
    ENTERED = "ENTERED"
    LEFT = "LEFT"
    UPDATED = "UPDATED"


def status_after(event_type: str) -> InvoiceStatus | None:
    """None for a type this version does not know (a newer writer's): feeds skip it."""
    known = EVENT_TYPES.get(event_type)
    return known.status if known else None


def is_invoice_event(event_type: str) -> bool:
    return event_type.startswith("invoice.") and event_type in EVENT_TYPES


def is_payment_event(event_type: str) -> bool:
    return event_type.startswith(PAYMENT_FAMILIES) and event_type in EVENT_TYPES


def queue_change(event_type: str, payload: Mapping[str, object]) -> QueueChange | None:
    """An exception waits for an approver from its failed match (or release from hold) until
    it is held, rejected by an approver, or fully approved (then it is the posting's)."""
    match event_type:
        case "invoice.match_failed" | "invoice.released":
            return QueueChange.ENTERED
        case "invoice.held" | "invoice.approval_completed":
            return QueueChange.LEFT
        case "invoice.rejected" if payload.get("rejected_by") != VALIDATION_ACTOR:
            return QueueChange.LEFT
        case "invoice.escalated":
            return QueueChange.UPDATED
    return None
