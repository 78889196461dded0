"""Registered OAuth2 clients (partner systems). The secret is stored only as a hash."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.clients import Client
from apgraph.store.reading import fetch
from apgraph.store.tables import OAuthClientRow

_c = OAuthClientRow.__table__.c


def client_from_row(row: Row[Any]) -> Client:
    return Client(
        client_id=row.client_id,
        name=row.name,
        secret_hash=row.secret_hash,
        scopes=frozenset(row.scopes),
        product=row.product,
        facility_ids=frozenset(row.facility_ids),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


@dataclass(frozen=True, slots=True)
class ClientRepository:
    engine: AsyncEngine

    async def add(self, client: Client) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                insert(OAuthClientRow).values(
                    client_id=client.client_id,
                    name=client.name,
                    secret_hash=client.secret_hash,
                    scopes=sorted(client.scopes),
                    product=client.product,
                    facility_ids=sorted(client.facility_ids),
                    created_at=client.created_at,
                    revoked_at=client.revoked_at,
                )
            )

    async def get(self, client_id: str) -> Client | None:
        rows = await fetch(
            self.engine, select(OAuthClientRow.__table__).where(_c.client_id == client_id)
        )
        return client_from_row(rows[0]) if rows else None

    async def all(self) -> Sequence[Client]:
        rows = await fetch(self.engine, select(OAuthClientRow.__table__).order_by(_c.created_at))
        return [client_from_row(row) for row in rows]

    async def revoke(self, client_id: str, *, at: datetime) -> bool:
        """True when a live client was revoked now; False when unknown or already revoked."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(OAuthClientRow)
                .where(_c.client_id == client_id, _c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return result.rowcount == 1
