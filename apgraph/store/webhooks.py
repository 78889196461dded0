"""Partner webhooks and their deliveries in the database. Secrets are sealed under the data
keys like the suppliers' classified columns, bound to the webhook's row."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.webhooks import Delivery, DeliveryStatus, Webhook, delivery_id
from apgraph.services.ports.webhooks import PlannedDelivery, Subscriber
from apgraph.store.clients import client_from_row
from apgraph.store.conflicts import insert_unless_present
from apgraph.store.keyring import Keyring
from apgraph.store.reading import fetch
from apgraph.store.sealing import Place
from apgraph.store.tables import OAuthClientRow, WebhookDeliveryRow, WebhookRow

WEBHOOKS = "webhooks"
ERROR_LENGTH = 500
_webhooks: Table = WebhookRow.__table__  # type: ignore[assignment]
_deliveries: Table = WebhookDeliveryRow.__table__  # type: ignore[assignment]
_clients: Table = OAuthClientRow.__table__  # type: ignore[assignment]
_w, _d = _webhooks.c, _deliveries.c
_ACTIVE_WEBHOOKS = select(_webhooks).where(_w.removed_at.is_(None)).order_by(_w.id)
PENDING, DELIVERED, DEAD = (s.value for s in DeliveryStatus)


def _webhook(row: Row[Any]) -> Webhook:
    return Webhook(
        id=row.id,
        client_id=row.client_id,
        url=row.url,
        event_types=frozenset(row.event_types),
        created_at=row.created_at,
    )


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        id=row.id,
        event_id=row.event_id,
        webhook_id=row.webhook_id,
        url=row.url,
        body=bytes(row.body),
        attempts=row.attempts,
        status=DeliveryStatus(row.status),
    )


_DELIVERY_COLUMNS = (
    _d.id,
    _d.event_id,
    _d.webhook_id,
    _w.url,
    _d.body,
    _d.attempts,
    _d.status,
)


@dataclass(frozen=True, slots=True)
class SqlWebhooks:
    engine: AsyncEngine
    keyring: Keyring

    # --- the registry -------------------------------------------------------------------

    async def add(self, webhook: Webhook, *, secret: str) -> None:
        sealing = await self.keyring.sealing()
        sealed = sealing.keys.seal(secret, Place(WEBHOOKS, "secret", webhook.id))
        async with self.engine.begin() as connection:
            await connection.execute(
                _webhooks.insert().values(
                    id=webhook.id,
                    client_id=webhook.client_id,
                    url=webhook.url,
                    event_types=sorted(webhook.event_types),
                    secret=sealed,
                    data_key_id=sealing.keys.active_id,
                    created_at=webhook.created_at,
                    removed_at=None,
                )
            )

    async def of_client(self, client_id: str) -> Sequence[Webhook]:
        rows = await fetch(
            self.engine,
            select(_webhooks)
            .where(_w.client_id == client_id, _w.removed_at.is_(None))
            .order_by(_w.created_at, _w.id),
        )
        return [_webhook(row) for row in rows]

    async def remove(self, client_id: str, webhook_id: str, *, at: datetime) -> bool:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(_webhooks)
                .where(_w.id == webhook_id, _w.client_id == client_id, _w.removed_at.is_(None))
                .values(removed_at=at)
            )
            if result.rowcount != 1:
                return False
            await connection.execute(
                delete(_deliveries).where(_d.webhook_id == webhook_id, _d.status == PENDING)
            )
        return True

    # --- the delivery queue -------------------------------------------------------------

    async def subscribers(self, event_types: Collection[str]) -> Sequence[Subscriber]:
        """Filtered by type here rather than in SQL: JSON containment differs per database,
        and a deployment has tens of webhooks, not thousands."""
        rows = await fetch(self.engine, _ACTIVE_WEBHOOKS)
        wanted = [_webhook(row) for row in rows if not set(event_types).isdisjoint(row.event_types)]
        if not wanted:
            return []
        owners = {
            row.client_id: client_from_row(row)
            for row in await fetch(
                self.engine,
                select(_clients).where(
                    _clients.c.client_id.in_({webhook.client_id for webhook in wanted})
                ),
            )
        }
        return [
            Subscriber(webhook, owners[webhook.client_id])
            for webhook in wanted
            if webhook.client_id in owners
        ]

    async def plan(self, deliveries: Sequence[PlannedDelivery], *, at: datetime) -> int:
        if not deliveries:
            return 0
        async with self.engine.begin() as connection:
            result = await connection.execute(
                insert_unless_present(connection, WebhookDeliveryRow),
                [
                    {
                        "id": delivery_id(planned.event_id, planned.webhook_id),
                        "event_id": planned.event_id,
                        "event_type": planned.event_type,
                        "webhook_id": planned.webhook_id,
                        "body": planned.body,
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": at,
                        "last_error": None,
                        "created_at": at,
                        "finished_at": None,
                    }
                    for planned in deliveries
                ],
            )
        return max(result.rowcount, 0)

    async def due(self, *, now: datetime, limit: int) -> Sequence[Delivery]:
        rows = await fetch(
            self.engine,
            select(*_DELIVERY_COLUMNS)
            .join(_webhooks, _w.id == _d.webhook_id)
            .where(_d.status == PENDING, _d.next_attempt_at <= now, _w.removed_at.is_(None))
            .order_by(_d.next_attempt_at, _d.id)
            .limit(limit),
        )
        return [_delivery(row) for row in rows]

    async def claim(self, delivery_id: str, *, now: datetime, until: datetime) -> bool:
        return await self._move(
            delivery_id,
            and_(_d.status == PENDING, _d.next_attempt_at <= now),
            next_attempt_at=until,
        )

    async def secret_of(self, webhook_id: str) -> str | None:
        rows = await fetch(
            self.engine,
            select(_w.secret, _w.data_key_id).where(_w.id == webhook_id, _w.removed_at.is_(None)),
        )
        if not rows:
            return None
        sealing = await self.keyring.sealing(needs=[rows[0].data_key_id])
        return sealing.keys.open(rows[0].secret, Place(WEBHOOKS, "secret", webhook_id))

    async def delivered(self, delivery_id: str, *, attempts: int, at: datetime) -> None:
        await self._move(
            delivery_id, _d.status == PENDING, status=DELIVERED, attempts=attempts, finished_at=at
        )

    async def retry(
        self, delivery_id: str, *, attempts: int, error: str, next_at: datetime
    ) -> None:
        await self._move(
            delivery_id,
            _d.status == PENDING,
            attempts=attempts,
            last_error=error[:ERROR_LENGTH],
            next_attempt_at=next_at,
        )

    async def dead(self, delivery_id: str, *, attempts: int, error: str, at: datetime) -> None:
        await self._move(
            delivery_id,
            _d.status == PENDING,
            status=DEAD,
            attempts=attempts,
            last_error=error[:ERROR_LENGTH],
            finished_at=at,
        )

    async def get(self, delivery_id: str) -> Delivery | None:
        rows = await fetch(
            self.engine,
            select(*_DELIVERY_COLUMNS)
            .join(_webhooks, _w.id == _d.webhook_id)
            .where(_d.id == delivery_id),
        )
        return _delivery(rows[0]) if rows else None

    async def revive(self, delivery_id: str, *, now: datetime, until: datetime) -> bool:
        return await self._move(
            delivery_id, _d.status == DEAD, status=PENDING, next_attempt_at=until, finished_at=None
        )

    async def _move(self, delivery_id: str, condition: Any, **values: Any) -> bool:
        """One conditional UPDATE: the condition is what makes two workers (or two replays)
        unable to both take the same delivery."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(_deliveries).where(_d.id == delivery_id, condition).values(**values)
            )
        return result.rowcount == 1


async def keys_in_use(engine: AsyncEngine) -> set[str]:
    """The data keys webhook secrets are sealed under (a retired key still opens them)."""
    rows = await fetch(engine, select(_w.data_key_id).distinct())
    return {row.data_key_id for row in rows}
