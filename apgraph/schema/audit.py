"""The audit trail as auditors read it: newest first, each entry with its chain hashes."""

import datetime
from typing import Self

import strawberry

from apgraph.domain.audit import AuditEntry, AuditOutcome
from apgraph.schema.enums import register_enum
from apgraph.schema.pagination import Connection

register_enum(AuditOutcome, name="AuditOutcome")


@strawberry.type(name="AuditEntry", description="Who did what to which entities, and when.")
class AuditEntryType:
    sequence: int = strawberry.field(description="Position in the chain, 1 first; gap-free.")
    at: datetime.datetime = strawberry.field(description="When (UTC).")
    subject: str = strawberry.field(description="Who: the user or client the token names.")
    client_id: str | None = strawberry.field(
        description="The partner client, for client-credentials tokens."
    )
    action: str = strawberry.field(description='e.g. "token.issued", "access.denied".')
    entity_ids: list[str] = strawberry.field(description="The canonical IDs acted on or read.")
    outcome: AuditOutcome = strawberry.field(description="How it ended.")
    trace_id: str | None = strawberry.field(description="The request trace it belongs to.")
    detail: str | None = strawberry.field(
        description="More about it, e.g. the refusal code or the fields read."
    )
    prev_hash: str = strawberry.field(
        description="The previous entry hash: the chain `apgraph audit verify` checks."
    )
    hash: str = strawberry.field(description="SHA-256 over this entry and prevHash.")

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


@strawberry.type(name="AuditEntryConnection", description="A page of audit entries.")
class AuditEntryConnection(Connection[AuditEntryType]):
    pass


@strawberry.input(name="AuditFilter", description="Every given criterion must hold.")
class AuditFilterInput:
    subject: str | None = strawberry.field(default=None, description="Only this user or client.")
    action: str | None = strawberry.field(
        default=None, description='Only this action, e.g. "invoice.approved".'
    )
    since: datetime.datetime | None = strawberry.field(
        default=None, description="At or after (UTC)."
    )
    until: datetime.datetime | None = strawberry.field(default=None, description="Before (UTC).")
