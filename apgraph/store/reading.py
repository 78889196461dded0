"""What every repository shares: one pooled connection per query, keyset pages.

Reads take a connection per statement rather than one session per request, so the
DataLoaders of one GraphQL request can run their batches concurrently.
"""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Executable,
    Row,
    Select,
    String,
    any_,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.services.ports.reads import Page, PageRequest

T = TypeVar("T")


@asynccontextmanager
async def one_statement(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection for a single read.

    On PostgreSQL it runs in autocommit: one statement sees one snapshot whether or not a
    transaction surrounds it, and the BEGIN and ROLLBACK that would surround it were two
    of every three round trips of a read (issue 19). Setting the level costs no round
    trip, and the pool puts the default back when the connection returns. SQLite keeps its
    default (a local file: there is no round trip to save).
    """
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


def among(
    engine: AsyncEngine, column: ColumnElement[Any], keys: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN keys`, the loaders' condition. On PostgreSQL `column = ANY($1)` with the
    keys as one array: the same SQL whatever their number, so one prepared statement serves
    every batch and no IN list is rendered per execution (issue 19). SQLite: IN."""
    if engine.dialect.name == "postgresql":
        # VARCHAR[], unbounded: a cast to the column's VARCHAR(n) would cut a longer key short
        return column == any_(literal(list(keys), ARRAY(String())))
    return column.in_(keys)


async def write_alone(engine: AsyncEngine, statement: Executable) -> CursorResult[Any]:
    """One statement that writes, committed on its own. On PostgreSQL in autocommit: a
    single statement is atomic without BEGIN and COMMIT around it, which were two of its
    three round trips. SQLite runs it in a transaction of its own, as before."""
    if engine.dialect.name == "postgresql":
        async with one_statement(engine) as connection:
            return await connection.execute(statement)
    async with engine.begin() as connection:
        return await connection.execute(statement)


async def fetch(engine: AsyncEngine, statement: Select[Any]) -> Sequence[Row[Any]]:
    async with one_statement(engine) as connection:
        rows: Sequence[Row[Any]] = (await connection.execute(statement)).all()
        return rows


async def fetch_page(
    engine: AsyncEngine,
    statement: Select[Any],
    *,
    key: ColumnElement[str],
    page: PageRequest,
    to_domain: Callable[[Row[Any]], T],
) -> Page[T]:
    """Rows ordered by `key` after the cursor; one extra row tells whether more follow."""
    if page.after is not None:
        statement = statement.where(key > page.after)
    rows = await fetch(engine, statement.order_by(key).limit(page.first + 1))
    return Page(
        items=[to_domain(row) for row in rows[: page.first]],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count(engine: AsyncEngine, statement: Select[Any]) -> int:
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    async with one_statement(engine) as connection:
        return int((await connection.execute(counted)).scalar_one())
