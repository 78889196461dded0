"""The audit trail's hash chain: pure functions, so tampering can be shown by anyone.

Each entry's hash covers its content and the previous entry's hash. Editing a row breaks
its own hash; deleting or inserting one breaks the link to the next.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

GENESIS_HASH = "0" * 64


class AuditOutcome(Enum):
    """How an audited action ended."""

    SUCCEEDED = "succeeded"
    """It was done."""
    DENIED = "denied"
    """Refused: missing scope, row scoping, segregation of duties, or a business rule."""
    FAILED = "failed"
    """Attempted but failed (e.g. an external system was down)."""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """Who did what to which entities, before it is placed in the chain."""

    subject: str
    action: str  # e.g. "token.issued", "access.denied", "field.read", "invoice.approve"
    outcome: AuditOutcome
    entity_ids: tuple[str, ...] = ()
    client_id: str | None = None
    trace_id: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    sequence: int
    at: datetime
    event: AuditEvent
    prev_hash: str
    hash: str = field(compare=False)


def entry_hash(sequence: int, at: datetime, event: AuditEvent, prev_hash: str) -> str:
    content = {
        "sequence": sequence,
        "at": at.isoformat(),
        "subject": event.subject,
        "client_id": event.client_id,
        "action": event.action,
        "entity_ids": list(event.entity_ids),
        "outcome": event.outcome.value,
        "trace_id": event.trace_id,
        "detail": event.detail,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def chained(sequence: int, at: datetime, event: AuditEvent, prev_hash: str) -> AuditEntry:
    return AuditEntry(
        sequence=sequence,
        at=at,
        event=event,
        prev_hash=prev_hash,
        hash=entry_hash(sequence, at, event, prev_hash),
    )


@dataclass(frozen=True, slots=True)
class Break:
    """The first place the chain does not hold, and why."""

    sequence: int
    reason: str


def first_break(
    entries: Iterable[AuditEntry], *, head: tuple[int, str] | None = None
) -> Break | None:
    """Walks the chain in sequence order; `head` is the stored (last sequence, last hash)."""
    expected_sequence, expected_prev = 1, GENESIS_HASH
    for entry in entries:
        if entry.sequence != expected_sequence:
            return Break(
                expected_sequence,
                f"entry {expected_sequence} is missing (next found: {entry.sequence})"
                if entry.sequence > expected_sequence
                else f"entry {entry.sequence} appears again or out of order",
            )
        if entry.prev_hash != expected_prev:
            return Break(entry.sequence, "does not link to the entry before it")
        if entry_hash(entry.sequence, entry.at, entry.event, entry.prev_hash) != entry.hash:
            return Break(entry.sequence, "its content does not match its hash (edited)")
        expected_sequence, expected_prev = entry.sequence + 1, entry.hash
    if head is not None and head != (expected_sequence - 1, expected_prev):
        return Break(
            expected_sequence,
            f"the chain ends at {expected_sequence - 1} but the head records {head[0]} "
            "(entries deleted from the end, or added outside the chain)",
        )
    return None
