"""The dead-letter store (services/ports/dead_letters.py) on the `dead_letters` table.

`DeadLetterWrites` joins a unit of work's connection; `SqlDeadLetters` opens a transaction per
call. Both file a failure the same way: the subject's open row (locked on PostgreSQL) gets one
more attempt, else a new row is inserted; the partial unique index on open (kind, subject)
keeps a race from filing two.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.domain.dead_letters import DeadLetter, DeadLetterKind, dead_letter_number
from apgraph.services.ports.dead_letters import DeadLetterFilter
from apgraph.services.ports.reads import Page, PageRequest
from apgraph.store.database import begin_writing
from apgraph.store.reading import count, fetch
from apgraph.store.tables import DeadLetterRow

_letters = DeadLetterRow.__table__.c
DETAIL_LIMIT = 2000  # a stack of error text is not what an operator reads


def letter_from_row(row: Row[Any]) -> DeadLetter:
    return DeadLetter(
        number=row.number,
        kind=DeadLetterKind(row.kind),
        subject=row.subject,
        code=row.code,
        detail=row.detail,
        attempts=row.attempts,
        first_failed_at=row.first_failed_at,
        last_failed_at=row.last_failed_at,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        outcome=row.outcome,
    )


async def _open_letter(
    connection: AsyncConnection, kind: DeadLetterKind, subject: str
) -> Row[Any] | None:
    found = await connection.execute(
        select(DeadLetterRow.__table__)
        .where(
            _letters.kind == kind.value,
            _letters.subject == subject,
            _letters.resolved_at.is_(None),
        )
        .with_for_update()
    )
    return found.one_or_none()


async def _by_number(connection: AsyncConnection, number: int) -> DeadLetter | None:
    row = (
        await connection.execute(select(DeadLetterRow.__table__).where(_letters.number == number))
    ).one_or_none()
    return letter_from_row(row) if row is not None else None


async def record(
    connection: AsyncConnection,
    kind: DeadLetterKind,
    subject: str,
    *,
    code: str,
    detail: str | None,
    at: datetime,
) -> DeadLetter:
    detail = detail[:DETAIL_LIMIT] if detail is not None else None
    row = await _open_letter(connection, kind, subject)
    if row is None:
        number = (
            await connection.execute(
                insert(DeadLetterRow)
                .values(
                    kind=kind.value,
                    subject=subject,
                    code=code,
                    detail=detail,
                    attempts=1,
                    first_failed_at=at,
                    last_failed_at=at,
                )
                .returning(_letters.number)
            )
        ).scalar_one()
    else:
        number = row.number
        await connection.execute(
            update(DeadLetterRow)
            .where(_letters.number == number)
            .values(code=code, detail=detail, attempts=_letters.attempts + 1, last_failed_at=at)
        )
    letter = await _by_number(connection, number)
    assert letter is not None  # written just now, in this transaction
    return letter


async def resolve(
    connection: AsyncConnection,
    kind: DeadLetterKind,
    subject: str,
    *,
    outcome: str,
    by: str,
    at: datetime,
) -> DeadLetter | None:
    row = await _open_letter(connection, kind, subject)
    if row is None:
        return None
    return await _close(connection, row.number, outcome=outcome, by=by, at=at)


async def _close(
    connection: AsyncConnection, number: int, *, outcome: str, by: str, at: datetime
) -> DeadLetter | None:
    await connection.execute(
        update(DeadLetterRow)
        .where(_letters.number == number, _letters.resolved_at.is_(None))
        .values(resolved_at=at, resolved_by=by, outcome=outcome)
    )
    return await _by_number(connection, number)


@dataclass(frozen=True, slots=True)
class DeadLetterWrites:
    """DeadLetterWriter inside a unit of work: written with the failure, or not at all."""

    connection: AsyncConnection

    async def record(
        self, kind: DeadLetterKind, subject: str, *, code: str, detail: str | None, at: datetime
    ) -> DeadLetter:
        return await record(self.connection, kind, subject, code=code, detail=detail, at=at)

    async def resolve(
        self, kind: DeadLetterKind, subject: str, *, outcome: str, by: str, at: datetime
    ) -> DeadLetter | None:
        return await resolve(self.connection, kind, subject, outcome=outcome, by=by, at=at)


@dataclass(frozen=True, slots=True)
class SqlDeadLetters:
    """DeadLetterStore: each call in a transaction of its own."""

    engine: AsyncEngine

    async def record(
        self, kind: DeadLetterKind, subject: str, *, code: str, detail: str | None, at: datetime
    ) -> DeadLetter:
        async with self.engine.connect() as connection:
            await begin_writing(connection)
            letter = await record(connection, kind, subject, code=code, detail=detail, at=at)
            await connection.commit()
        return letter

    async def resolve(
        self, kind: DeadLetterKind, subject: str, *, outcome: str, by: str, at: datetime
    ) -> DeadLetter | None:
        async with self.engine.connect() as connection:
            await begin_writing(connection)
            letter = await resolve(connection, kind, subject, outcome=outcome, by=by, at=at)
            await connection.commit()
        return letter

    async def mark_replayed(
        self, number: int, *, outcome: str, by: str, at: datetime
    ) -> DeadLetter | None:
        async with self.engine.connect() as connection:
            await begin_writing(connection)
            letter = await _close(connection, number, outcome=outcome, by=by, at=at)
            await connection.commit()
        return letter

    async def get(self, number: int) -> DeadLetter | None:
        rows = await fetch(
            self.engine, select(DeadLetterRow.__table__).where(_letters.number == number)
        )
        return letter_from_row(rows[0]) if rows else None

    async def page(self, where: DeadLetterFilter, page: PageRequest) -> Page[DeadLetter]:
        statement = _filtered(select(DeadLetterRow.__table__), where)
        after = dead_letter_number(page.after) if page.after is not None else None
        if after is not None:
            statement = statement.where(_letters.number > after)
        rows = await fetch(self.engine, statement.order_by(_letters.number).limit(page.first + 1))
        return Page(
            items=[letter_from_row(row) for row in rows[: page.first]],
            has_next_page=len(rows) > page.first,
            has_previous_page=page.after is not None,
        )

    async def count(self, where: DeadLetterFilter) -> int:
        return await count(self.engine, _filtered(select(_letters.number), where))

    async def open_counts(self) -> Mapping[DeadLetterKind, int]:
        rows = await fetch(
            self.engine,
            select(_letters.kind, func.count().label("open"))
            .where(_letters.resolved_at.is_(None))
            .group_by(_letters.kind),
        )
        counts = dict.fromkeys(DeadLetterKind, 0)
        for row in rows:
            counts[DeadLetterKind(row.kind)] = int(row.open)
        return counts


def _filtered(statement: Select[Any], where: DeadLetterFilter) -> Select[Any]:
    if where.kind is not None:
        statement = statement.where(_letters.kind == where.kind.value)
    if where.resolved is not None:
        resolved = _letters.resolved_at.is_not(None)
        statement = statement.where(resolved if where.resolved else ~resolved)
    return statement
