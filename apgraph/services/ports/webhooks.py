"""Partner webhooks: the registry of subscriptions, the persisted queue of deliveries, and the
name resolution both go through."""

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from apgraph.domain.clients import Client
from apgraph.domain.webhooks import Delivery, IpAddress, ReadRules, TargetPolicy, Webhook
from apgraph.services.ports.clock import Clock

HostResolver = Callable[[str, int], Awaitable[list[IpAddress]]]
"""Every address a host name resolves to (a literal address: itself); [] when none."""


class WebhookRegistry(Protocol):
    """Subscriptions, each owned by one partner client. Secrets are sealed at rest."""

    async def add(self, webhook: Webhook, *, secret: str) -> None: ...

    async def of_client(self, client_id: str) -> Sequence[Webhook]:
        """The client's webhooks that are not removed, oldest first."""
        ...

    async def remove(self, client_id: str, webhook_id: str, *, at: datetime) -> bool:
        """False when there is no such webhook of this client (or it is removed already).
        Its deliveries not made yet are dropped with it."""
        ...


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A webhook that asked for an event's type, with its owner as registered now."""

    webhook: Webhook
    client: Client


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    event_id: str
    event_type: str
    webhook_id: str
    body: bytes


class DeliveryQueue(Protocol):
    """Deliveries persisted before they are attempted, so a restart loses none; one row per
    (event, webhook), so planning an event twice plans it once."""

    async def subscribers(self, event_types: Collection[str]) -> Sequence[Subscriber]:
        """The webhooks on file now, not removed, that asked for any of `event_types`."""
        ...

    async def plan(self, deliveries: Sequence[PlannedDelivery], *, at: datetime) -> int:
        """Inserts those not planned before; returns how many were new."""
        ...

    async def due(self, *, now: datetime, limit: int) -> Sequence[Delivery]:
        """PENDING deliveries whose next attempt is due, oldest first."""
        ...

    async def claim(self, delivery_id: str, *, now: datetime, until: datetime) -> bool:
        """Takes a due PENDING delivery for one attempt, hiding it from other workers until
        `until` (a worker that dies mid-attempt leaves it to be retried then). False: another
        worker took it, or it is no longer pending."""
        ...

    async def secret_of(self, webhook_id: str) -> str | None:
        """The signing secret; None when the webhook was removed."""
        ...

    async def delivered(self, delivery_id: str, *, attempts: int, at: datetime) -> None: ...

    async def retry(
        self, delivery_id: str, *, attempts: int, error: str, next_at: datetime
    ) -> None: ...

    async def dead(self, delivery_id: str, *, attempts: int, error: str, at: datetime) -> None: ...

    async def get(self, delivery_id: str) -> Delivery | None: ...

    async def revive(self, delivery_id: str, *, now: datetime, until: datetime) -> bool:
        """DEAD → PENDING and claimed, for one replayed attempt. False when the delivery is not
        dead (delivered already: a second replay sends nothing)."""
        ...


@dataclass(frozen=True, slots=True)
class WebhookDeps:
    """What the webhook commands need; built once by the composition root."""

    registry: WebhookRegistry
    resolve: HostResolver
    targets: TargetPolicy
    rules: ReadRules
    max_per_client: int
    clock: Clock
