"""The audit trail as auditors read it: newest first, each entry with its chain hashes."""

import datetime
from typing import Self

import strawberry

from apgraph.domain.audit import AuditEntry, AuditOutcome
from apgraph.schema.pagination import Connection

strawberry.enum(AuditOutcome, name="AuditOutcome")


@strawberry.type(name="AuditEntry", description="Who did what to which entities, and when.")
class AuditEntryType:
    sequence: int
    at: datetime.datetime
    subject: str
    client_id: str | None
    action: str = strawberry.field(description='e.g. "token.issued", "access.denied".')
    entity_ids: list[str]
    outcome: AuditOutcome
    trace_id: str | None
    detail: str | None
    prev_hash: str
    hash: str

    @classmethod
    def from_domain(cls, entry: AuditEntry) -> Self:
        event = entry.event
        return cls(
            sequence=entry.sequence,
            at=entry.at,
            subject=event.subject,
            client_id=event.client_id,
            action=event.action,
            entity_ids=list(event.entity_ids),
            outcome=event.outcome,
            trace_id=event.trace_id,
            detail=event.detail,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )


@strawberry.type(name="AuditEntryConnection")
class AuditEntryConnection(Connection[AuditEntryType]):
    pass


@strawberry.input(name="AuditFilter")
class AuditFilterInput:
    subject: str | None = None
    action: str | None = None
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None
