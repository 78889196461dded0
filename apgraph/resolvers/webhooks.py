"""Webhook resolvers: a partner client manages its own webhooks, and only those."""

from typing import Annotated

import strawberry

from apgraph.schema.context import Info
from apgraph.schema.errors import Forbidden
from apgraph.schema.webhooks import (
    RegisterWebhookInput,
    RegisterWebhookPayload,
    RemoveWebhookPayload,
    WebhookType,
)
from apgraph.services import webhooks as service
from apgraph.services.ports.webhooks import WebhookDeps


def _owner(info: Info) -> tuple[str, WebhookDeps]:
    """Webhooks belong to partner clients: a person's token owns none."""
    client_id = info.context.principal.client_id
    if client_id is None:
        raise Forbidden("webhooks belong to partner clients (client-credentials tokens)")
    if info.context.webhooks is None:
        raise Forbidden("webhooks are not served here")
    return client_id, info.context.webhooks


async def webhooks(info: Info) -> list[WebhookType]:
    client_id, deps = _owner(info)
    return [WebhookType.of(webhook) for webhook in await deps.registry.of_client(client_id)]


async def register_webhook(
    info: Info,
    input: Annotated[
        RegisterWebhookInput, strawberry.argument(description="Where to deliver, and which events.")
    ],
) -> RegisterWebhookPayload:
    client_id, deps = _owner(info)
    outcome = await service.register_webhook(
        deps=deps,
        client_id=client_id,
        scopes=info.context.principal.scopes,
        url=input.url,
        event_types=input.event_types,
    )
    return RegisterWebhookPayload.from_outcome(outcome)


async def remove_webhook(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The webhook to remove.")],
) -> RemoveWebhookPayload:
    client_id, deps = _owner(info)
    outcome = await service.remove_webhook(deps=deps, client_id=client_id, webhook_id=str(id))
    return RemoveWebhookPayload.from_outcome(outcome)
