"""Idempotency keys: the first request under (scope, key) and what it produced.

Written in the unit of work of the change it guards, so a key is on file exactly when its
result is. Two requests racing with one key: the second's insert waits for the first's
transaction (PostgreSQL's unique index; SQLite's single writer) and then finds its record.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from apgraph.services.ports.unit_of_work import IdempotencyRecord
from apgraph.store.column_arrays import array_params, rows_of
from apgraph.store.conflicts import insert_unless_present
from apgraph.store.reading import Values, execute_kept
from apgraph.store.rows import row_of
from apgraph.store.tables import IdempotencyKeyRow

_keys = IdempotencyKeyRow.__table__.c
_TABLE = IdempotencyKeyRow.__table__
COLUMNS = tuple(column.name for column in _TABLE.c)  # a key's, as statements write them
_PUT = (
    postgresql.insert(IdempotencyKeyRow)
    .from_select(COLUMNS, rows_of(_TABLE, COLUMNS, prefix="key"))
    .on_conflict_do_nothing()
    .returning(*_TABLE.c)
)
_GET = select(_TABLE).where(_keys.scope == bindparam("scope"), _keys.key == bindparam("key"))


@dataclass(frozen=True, slots=True)
class IdempotencyKeyStore:
    connection: AsyncConnection

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        found = await execute_kept(self.connection, _GET, {"scope": scope, "key": key})
        return record_of(found[0]) if found else None

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
        rows = [offered, *(row_of(record) for record in along)]
        inserted: Sequence[Values]
        if self.connection.dialect.name == "postgresql":
            # as column arrays: one statement, built and compiled once (column_arrays.py)
            inserted = await execute_kept(
                self.connection, _PUT, array_params(_TABLE, COLUMNS, rows, prefix="key")
            )
        else:
            inserted = [
                row._mapping
                for row in await self.connection.execute(
                    insert_unless_present(self.connection, IdempotencyKeyRow)
                    .values(rows)
                    .returning(*_TABLE.c)
                )
            ]
        row = next((r for r in inserted if (r["scope"], r["key"]) == (scope, key)), None)
        if row is not None:
            return record_of(row)
        on_file = await self.get(scope, key)
        if on_file is None:
            raise RuntimeError(f"idempotency key {key!r} of {scope!r} vanished as it was stored")
        return on_file


def record_of(values: Values) -> IdempotencyRecord:
    return IdempotencyRecord(
        scope=values["scope"],
        key=values["key"],
        fingerprint=values["fingerprint"],
        result_ref=values["result_ref"],
        created_at=values["created_at"],
    )
