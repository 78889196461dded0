"""Idempotency keys: the first request under (scope, key) and what it produced.

Written in the unit of work of the change it guards, so a key is on file exactly when its
result is. Two requests racing with one key: the second's insert waits for the first's
transaction (PostgreSQL's unique index; SQLite's single writer) and then finds its record.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from apgraph.services.ports.unit_of_work import IdempotencyRecord
from apgraph.store.column_arrays import array_params, rows_of
from apgraph.store.conflicts import insert_unless_present
from apgraph.store.tables import IdempotencyKeyRow

_keys = IdempotencyKeyRow.__table__.c
_TABLE = IdempotencyKeyRow.__table__
_COLUMNS = tuple(column.name for column in _TABLE.c)
_PUT = (
    postgresql.insert(IdempotencyKeyRow)
    .from_select(_COLUMNS, rows_of(_TABLE, _COLUMNS, prefix="key"))
    .on_conflict_do_nothing()
    .returning(*_TABLE.c)
)


@dataclass(frozen=True, slots=True)
class IdempotencyKeyStore:
    connection: AsyncConnection

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        found = await self.connection.execute(
            select(IdempotencyKeyRow.__table__).where(_keys.scope == scope, _keys.key == key)
        )
        row = found.one_or_none()
        return _record(row) if row is not None else None

    async def put(
        self,
        scope: str,
        key: str,
        *,
        fingerprint: str,
        result_ref: str,
        at: datetime,
        along: Sequence[IdempotencyRecord] = (),
    ) -> IdempotencyRecord:
        """Stores the key unless (scope, key) is on file; returns the record on file.

        One round trip when the key is new (the insert returns its row, and stores `along`
        with it); a read only when another request holds the key."""
        offered = {
            "scope": scope,
            "key": key,
            "fingerprint": fingerprint,
            "result_ref": result_ref,
            "created_at": at,
        }
        rows = [offered, *(asdict(record) for record in along)]
        if self.connection.dialect.name == "postgresql":
            # as column arrays: one statement, built and compiled once (column_arrays.py)
            inserted = await self.connection.execute(
                _PUT, array_params(_TABLE, _COLUMNS, rows, prefix="key")
            )
        else:
            inserted = await self.connection.execute(
                insert_unless_present(self.connection, IdempotencyKeyRow)
                .values(rows)
                .returning(*_TABLE.c)
            )
        row = next((r for r in inserted if (r.scope, r.key) == (scope, key)), None)
        if row is not None:
            return _record(row)
        on_file = await self.get(scope, key)
        if on_file is None:
            raise RuntimeError(f"idempotency key {key!r} of {scope!r} vanished as it was stored")
        return on_file


def _record(row: Row[Any]) -> IdempotencyRecord:
    return IdempotencyRecord(
        scope=row.scope,
        key=row.key,
        fingerprint=row.fingerprint,
        result_ref=row.result_ref,
        created_at=row.created_at,
    )
