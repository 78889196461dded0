"""The audit trail's hash chain: pure functions, so tampering can be shown by anyone.

Each entry's hash covers its content and the previous entry's hash. Editing a row breaks
its own hash; deleting or inserting one breaks the link to the next.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

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
    """SHA-256, in hex, of the entry's canonical JSON: its content, sequence and the previous
    entry's hash, keys sorted, no spaces, non-ASCII escaped (`json.dumps` defaults)."""
    content = {
        **_content(at, event),
        "sequence": sequence,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


SEQUENCE_BETWEEN = '","sequence":'  # what joins the previous hash to the sequence in the text


def canonical_halves(at: datetime, event: AuditEvent) -> tuple[str, str]:
    """The entry's canonical JSON (`entry_hash`'s) around the two values only the chain's
    head decides: the text is `before + prev_hash + SEQUENCE_BETWEEN + str(sequence) +
    after`, since the sorted keys put `prev_hash` and `sequence` side by side, and a hex hash
    and an integer need no escaping. So a database can chain entries (hash each after the
    one before) in the statement that claims the head, with what was worked out here."""
    content = _content(at, event)
    # keys sorted: the ones before "prev_hash", then "prev_hash", "sequence", then the rest
    head = {key: value for key, value in content.items() if key < "prev_hash"}
    tail = {key: value for key, value in content.items() if key > "sequence"}
    before = json.dumps(head, sort_keys=True, separators=(",", ":"))[:-1] + ',"prev_hash":"'
    after = "," + json.dumps(tail, sort_keys=True, separators=(",", ":"))[1:]
    return before, after


def event_fields(event: AuditEvent) -> dict[str, Any]:
    """The event as an entry stores it and its hash covers it (with `at`, sequence and the
    previous hash)."""
    return {
        "subject": event.subject,
        "client_id": event.client_id,
        "action": event.action,
        "entity_ids": list(event.entity_ids),
        "outcome": event.outcome.value,
        "trace_id": event.trace_id,
        "detail": event.detail,
    }


def _content(at: datetime, event: AuditEvent) -> dict[str, Any]:
    return {"at": at.isoformat(), **event_fields(event)}


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
    entries: Iterable[AuditEntry],
    *,
    head: tuple[int, str] | None = None,
    start: tuple[int, str] = (1, GENESIS_HASH),
) -> Break | None:
    """Walks the chain in sequence order; `head` is the stored (last sequence, last hash);
    `start` is where it begins: entry 1 after the genesis hash, or after a purge the entry
    after a checkpoint's cut, linked to the hash that checkpoint recorded."""
    expected_sequence, expected_prev = start
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


# --- purge by checkpoint ---------------------------------------------------------------------

CHECKPOINT = "audit.checkpoint"  # the action of a checkpoint entry


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Entries up to `cut` may be deleted: `cut_hash` (the hash of entry `cut`) is where the
    rest of the chain starts, and the signature shows the checkpoint was made by the server
    (an HMAC under a key the key-encryption key protects), not forged to hide a deletion."""

    cut: int
    cut_hash: str
    signature: str

    @staticmethod
    def _message(cut: int, cut_hash: str) -> bytes:
        return json.dumps({"cut": cut, "cut_hash": cut_hash}, sort_keys=True).encode()

    @classmethod
    def signed(cls, cut: int, cut_hash: str, *, key: bytes) -> "Checkpoint":
        signature = hmac.new(key, cls._message(cut, cut_hash), hashlib.sha256).hexdigest()
        return cls(cut, cut_hash, signature)

    def valid(self, *, key: bytes) -> bool:
        expected = self.signed(self.cut, self.cut_hash, key=key).signature
        return hmac.compare_digest(expected, self.signature)

    def detail(self, **extra: object) -> str:
        content = {"cut": self.cut, "cut_hash": self.cut_hash, "signature": self.signature}
        return json.dumps({**content, **extra}, sort_keys=True)

    @classmethod
    def from_detail(cls, detail: str | None) -> "Checkpoint | None":
        try:
            content = json.loads(detail or "")
            return cls(int(content["cut"]), str(content["cut_hash"]), str(content["signature"]))
        except (ValueError, KeyError, TypeError):
            return None


def chain_start(
    first: AuditEntry | None, checkpoints: Iterable[AuditEntry], *, key: bytes | None
) -> tuple[int, str] | Break:
    """Where verification starts: at entry 1, or, when earlier entries were purged, after the
    cut of the signed checkpoint that accounts for exactly them. A missing beginning with no
    valid checkpoint is a break (entries deleted outside a purge)."""
    if first is None or first.sequence == 1:
        return (1, GENESIS_HASH)
    for entry in checkpoints:
        checkpoint = Checkpoint.from_detail(entry.event.detail)
        if checkpoint is None or checkpoint.cut != first.sequence - 1:
            continue
        if key is None or not checkpoint.valid(key=key):
            return Break(entry.sequence, "its checkpoint signature does not verify (forged)")
        return (checkpoint.cut + 1, checkpoint.cut_hash)
    return Break(1, f"entries 1 to {first.sequence - 1} are missing and no checkpoint covers them")
