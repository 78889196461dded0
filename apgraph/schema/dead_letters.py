"""Dead letters as operators read and replay them: postings, payment releases, webhook
deliveries and relayed events that failed past every retry."""

import datetime
from typing import Self

import strawberry

from apgraph.domain.dead_letters import DeadLetter, DeadLetterKind
from apgraph.domain.problems import Outcome
from apgraph.schema.enums import register_enum
from apgraph.schema.pagination import Connection
from apgraph.schema.user_errors import UserError, user_errors

register_enum(DeadLetterKind, name="DeadLetterKind")


@strawberry.type(
    name="DeadLetter",
    description=(
        "Work that failed past every retry and waits for an operator's replay, or (resolved) "
        "how it ended. One open letter per subject: failing again counts another attempt."
    ),
)
class DeadLetterType:
    id: strawberry.ID = strawberry.field(description="The letter's ID, e.g. DL-000042.")
    kind: DeadLetterKind = strawberry.field(description="What failed.")
    subject: str = strawberry.field(
        description=(
            "What it failed on: the invoice ID (POSTING), payment ID (PAYMENT_RELEASE), "
            "delivery ID (WEBHOOK_DELIVERY) or event ID (RELAY)."
        )
    )
    code: str = strawberry.field(
        description="The latest failure as a stable code, e.g. ERP_UNAVAILABLE."
    )
    detail: str | None = strawberry.field(
        description="The latest failure in words, for a person; may change wording."
    )
    attempts: int = strawberry.field(
        description="Failures counted on this letter, the first one and failed replays."
    )
    first_failed_at: datetime.datetime = strawberry.field(description="The first failure (UTC).")
    last_failed_at: datetime.datetime = strawberry.field(description="The latest failure (UTC).")
    resolved: bool = strawberry.field(
        description="Carried through: by a replay, or by another path (e.g. retryPosting)."
    )
    resolved_at: datetime.datetime | None = strawberry.field(
        description="When it was carried through (UTC); null while it waits."
    )
    resolved_by: str | None = strawberry.field(
        description="Who carried it through: an operator, or a server worker; null while it waits."
    )
    outcome: str | None = strawberry.field(
        description='How it ended, e.g. "POSTED ERP-DOC-123"; every later replay answers this.'
    )

    @classmethod
    def from_domain(cls, letter: DeadLetter) -> Self:
        return cls(
            id=strawberry.ID(letter.id),
            kind=letter.kind,
            subject=letter.subject,
            code=letter.code,
            detail=letter.detail,
            attempts=letter.attempts,
            first_failed_at=letter.first_failed_at,
            last_failed_at=letter.last_failed_at,
            resolved=letter.resolved,
            resolved_at=letter.resolved_at,
            resolved_by=letter.resolved_by,
            outcome=letter.outcome,
        )


@strawberry.type(name="DeadLetterConnection", description="A page of dead letters, oldest first.")
class DeadLetterConnection(Connection[DeadLetterType]):
    pass


@strawberry.input(name="DeadLetterFilter", description="Every given criterion must hold.")
class DeadLetterFilterInput:
    kind: DeadLetterKind | None = strawberry.field(
        default=None, description="Only letters of this kind; omit for every kind."
    )
    resolved: bool | None = strawberry.field(
        default=None,
        description="false: only those waiting for a replay; true: only resolved; omit: both.",
    )


@strawberry.type(name="ReplayDeadLetterPayload", description="What replaying a dead letter did.")
class ReplayDeadLetterPayload:
    dead_letter: DeadLetterType | None = strawberry.field(
        description=(
            "The letter as it stands after the replay: resolved with its outcome, or still "
            "open with one more attempt; null when there is no such letter."
        )
    )
    user_errors: list[UserError] = strawberry.field(
        description=(
            "Why the replay did not carry the work through: no such letter, replayed already "
            "(deadLetter shows the first outcome), or still failing."
        )
    )

    @classmethod
    def from_outcome(cls, outcome: Outcome[DeadLetter]) -> Self:
        letter = outcome.value
        return cls(
            dead_letter=DeadLetterType.from_domain(letter) if letter is not None else None,
            user_errors=user_errors(outcome.problems),
        )
