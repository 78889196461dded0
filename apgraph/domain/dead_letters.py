"""Dead letters: work that failed past every retry, kept in one store until a replay or
another path (retryPosting, a later relay run) carries it through.

One open letter per (kind, subject): a replay that fails again counts another attempt on the
same letter instead of filing a second one. A letter once resolved stays resolved with the
outcome it ended with; a second replay answers that outcome and does nothing again.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

ID_PREFIX = "DL-"


class DeadLetterKind(Enum):
    """What failed past every retry and waits in the dead-letter store."""

    POSTING = "POSTING"
    """An invoice the ERP refused or could not take (the invoice is POSTING_FAILED); the
    subject is the invoice ID. A replay posts it again under its one posting key."""
    PAYMENT_RELEASE = "PAYMENT_RELEASE"
    """A released payment the ERP could not take (the payment is RELEASE_FAILED); the
    subject is the payment ID. A replay orders it again under its one key, the payment ID."""
    WEBHOOK_DELIVERY = "WEBHOOK_DELIVERY"
    """A signed webhook delivery the partner's endpoint did not accept after the last retry;
    the subject is the delivery ID. A replay delivers it again with the same event id."""
    RELAY = "RELAY"
    """An outbox event the event bus or the analytics platform kept refusing; the subject is
    the event ID. The event stays in the outbox; a replay publishes it again by its id."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One failure waiting for a replay, or (`resolved_at` set) how it ended."""

    number: int  # the store's key; `id` is its public form
    kind: DeadLetterKind
    subject: str  # INV-…, PAY-…, a delivery ID or an event ID, per kind
    code: str  # the last failure's stable code, e.g. ERP_UNAVAILABLE
    detail: str | None
    attempts: int  # failures recorded on this letter, the first one included
    first_failed_at: datetime
    last_failed_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None  # who carried it through: an operator, a server worker
    outcome: str | None = None  # how it ended, e.g. "POSTED ERP-12345"

    @property
    def id(self) -> str:
        return dead_letter_id(self.number)

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None


def dead_letter_id(number: int) -> str:
    return f"{ID_PREFIX}{number:06d}"


def dead_letter_number(value: str) -> int | None:
    """The store key of a public `DL-000042`; None when `value` is not one."""
    digits = value.removeprefix(ID_PREFIX)
    if digits == value or not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        return None
    return int(digits)
