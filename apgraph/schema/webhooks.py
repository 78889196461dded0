"""Partner webhooks in the API: a subscription, and the inputs and payloads that manage it.
The signing secret appears in one place only: the payload that registered the webhook."""

import datetime
from typing import Self

import strawberry

from apgraph.domain.problems import Outcome
from apgraph.domain.webhooks import Registered, Webhook
from apgraph.schema.user_errors import UserError, user_errors


@strawberry.type(
    name="Webhook",
    description="A URL your system registered to be told of events, signed the Standard "
    "Webhooks way. Only the client that registered it sees it.",
)
class WebhookType:
    id: strawberry.ID = strawberry.field(description="The webhook's ID, e.g. WHK-3f2a9c0d4b5e6f70.")
    url: str = strawberry.field(description="Where each event is POSTed.")
    event_types: list[str] = strawberry.field(
        description="The event types it receives, e.g. invoice.posted; only events of "
        "invoices and payments you may read come."
    )
    created_at: datetime.datetime = strawberry.field(description="When it was registered (UTC).")

    @classmethod
    def of(cls, webhook: Webhook) -> Self:
        return cls(
            id=strawberry.ID(webhook.id),
            url=webhook.url,
            event_types=sorted(webhook.event_types),
            created_at=webhook.created_at,
        )


@strawberry.input(name="RegisterWebhookInput", description="Where to deliver, and which events.")
class RegisterWebhookInput:
    url: str = strawberry.field(
        description="An http(s) URL without credentials, on a host gateway.yaml allows "
        "(by default loopback only); private and link-local addresses are refused."
    )
    event_types: list[str] = strawberry.field(
        description='Event types to receive, e.g. ["invoice.posted", "invoice.rejected"].'
    )


@strawberry.type(name="RegisterWebhookPayload", description="A registered webhook, or why not.")
class RegisterWebhookPayload:
    webhook: WebhookType | None = strawberry.field(
        description="The new webhook; null when it was refused."
    )
    secret: str | None = strawberry.field(
        description="Its signing secret (whsec_…), shown this once and never again: keep it "
        "to verify each delivery's webhook-signature."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the webhook was refused, next to the fields at fault."
    )

    @classmethod
    def from_outcome(cls, outcome: Outcome[Registered]) -> Self:
        registered = outcome.value
        return cls(
            webhook=WebhookType.of(registered.webhook) if registered else None,
            secret=registered.secret if registered else None,
            user_errors=user_errors(outcome.problems),
        )


@strawberry.type(name="RemoveWebhookPayload", description="A removed webhook, or why not.")
class RemoveWebhookPayload:
    removed_webhook_id: strawberry.ID | None = strawberry.field(
        description="The webhook removed; deliveries not made yet are dropped with it."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was removed.")

    @classmethod
    def from_outcome(cls, outcome: Outcome[str]) -> Self:
        removed = outcome.value
        return cls(
            removed_webhook_id=strawberry.ID(removed) if removed else None,
            user_errors=user_errors(outcome.problems),
        )
