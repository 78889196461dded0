"""Legal holds: an invoice or a supplier whose records retention must keep, whatever their age.

Placing and releasing a hold are audited in the same transaction as the change.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.store import audit
from apgraph.store.database import begin_writing
from apgraph.store.tables import InvoiceRow, LegalHoldRow, SupplierRow

PLACED = "legal_hold.placed"
RELEASED = "legal_hold.released"


@dataclass(frozen=True, slots=True)
class LegalHold:
    entity_id: str
    reason: str
    placed_by: str
    placed_at: datetime


@dataclass(frozen=True, slots=True)
class LegalHolds:
    engine: AsyncEngine

    async def place(self, entity_id: str, *, reason: str, by: str, at: datetime) -> bool:
        """False when there is no such invoice or supplier; placing a hold twice is a no-op."""
        async with self.engine.connect() as connection:
            await begin_writing(connection)
            model = InvoiceRow if entity_id.startswith("INV-") else SupplierRow
            exists = await connection.scalar(select(model.id).where(model.id == entity_id))
            if exists is None:
                return False
            held = await connection.scalar(
                select(LegalHoldRow.entity_id).where(LegalHoldRow.entity_id == entity_id)
            )
            if held is None:
                await connection.execute(
                    insert(LegalHoldRow).values(
                        entity_id=entity_id, reason=reason, placed_by=by, placed_at=at
                    )
                )
                await audit.append(connection, [_event(PLACED, entity_id, by, reason)], at=at)
            await connection.commit()
        return True

    async def release(self, entity_id: str, *, by: str, at: datetime) -> bool:
        async with self.engine.connect() as connection:
            await begin_writing(connection)
            removed = await connection.execute(
                delete(LegalHoldRow).where(LegalHoldRow.entity_id == entity_id)
            )
            if removed.rowcount:
                await audit.append(connection, [_event(RELEASED, entity_id, by, None)], at=at)
            await connection.commit()
        return bool(removed.rowcount)

    async def all(self) -> list[LegalHold]:
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(LegalHoldRow.__table__).order_by(LegalHoldRow.entity_id)
                )
            ).all()
        return [LegalHold(r.entity_id, r.reason, r.placed_by, r.placed_at) for r in rows]


def _event(action: str, entity_id: str, by: str, reason: str | None) -> AuditEvent:
    return AuditEvent(
        subject=by,
        action=action,
        outcome=AuditOutcome.SUCCEEDED,
        entity_ids=(entity_id,),
        detail=reason,
    )
