"""What every repository shares: a pooled connection per read, keyset pages.

Reads take a connection per statement rather than one session per request, so the
DataLoaders of one GraphQL request can run their batches concurrently; inside
`sharing_one_connection` they share one connection instead, one statement at a time.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Executable,
    Row,
    Select,
    String,
    any_,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.services.ports.reads import Page, PageRequest

T = TypeVar("T")
Parameters = Mapping[str, Any]  # bound parameters' values by name


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


class _OneConnection:
    """One pooled connection that the reads of one block take turns on (a connection runs
    one statement at a time): taken when a read comes and given back as soon as no other
    read waits for it.

    Held only while reads are queued, never across what the block does between them (a
    connector's call, a read through a connection of its own, the CPU between two levels
    of a response). Held from the first read to the end of the block, the pool capped the
    queries under way rather than the statements, and queries that each held one connection
    while waiting for a second (a field that reads on a connection of its own) could hold
    every pooled connection and wait on each other until the pool's timeout.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._turn = asyncio.Lock()
        self._connection: AsyncConnection | None = None
        self._wanted = 0  # reads queued for the connection or running on it
        self._closed = False

    async def all(
        self, statement: Executable, parameters: Parameters | None = None
    ) -> Sequence[Row[Any]]:
        self._wanted += 1
        try:
            async with self._turn:
                if self._closed:  # a task that outlived its block (its caller gave up on it)
                    return await _alone(self.engine, statement, parameters)
                if self._connection is None:
                    self._connection = await _opened(self.engine)
                try:
                    result = await self._connection.execute(statement, parameters)
                    rows: Sequence[Row[Any]] = result.all()
                    return rows
                finally:
                    if self._wanted == 1:  # no other read waits: back to the pool now
                        await self._give_back()
        finally:
            self._wanted -= 1

    async def close(self) -> None:
        async with self._turn:  # after the statement under way, if any
            self._closed = True
            await self._give_back()

    async def _give_back(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


# The block's shared connection, if any. A context variable rather than a parameter: the
# loaders' batches run as tasks started from the request's task, and they reach the store
# through repositories built once per request for the engine; like the statement count
# (store/database.py), the variable reaches every task the block starts and ends with it.
_shared: ContextVar[_OneConnection | None] = ContextVar("one_read_connection", default=None)


@asynccontextmanager
async def sharing_one_connection(engine: AsyncEngine) -> AsyncIterator[None]:
    """Reads of `engine` inside the block (and in the tasks it starts) that run at once, as
    a level of DataLoader batches does, take one pooled connection in turn instead of a
    pool checkout each: for a GraphQL page of five batched reads, the checkouts and returns
    were about a twelfth of its CPU (issue 19). The connection goes back to the pool
    whenever no read waits for it, so the block holds none between its levels. Each
    statement still runs on its own (autocommit on PostgreSQL, no transaction held on
    SQLite), so every read sees what was committed before it, as before.
    Only reads take it (`fetch`, `fetch_page`, `count`); writes keep their own connection.
    """
    shared = _OneConnection(engine)
    token = _shared.set(shared)
    try:
        yield
    finally:
        _shared.reset(token)
        await shared.close()


async def _opened(engine: AsyncEngine) -> AsyncConnection:
    connection = await engine.connect()
    if connection.dialect.name == "postgresql":
        await connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


async def _alone(
    engine: AsyncEngine, statement: Executable, parameters: Parameters | None = None
) -> Sequence[Row[Any]]:
    async with one_statement(engine) as connection:
        rows: Sequence[Row[Any]] = (await connection.execute(statement, parameters)).all()
        return rows


async def _rows(
    engine: AsyncEngine, statement: Executable, parameters: Parameters | None = None
) -> Sequence[Row[Any]]:
    """The statement's rows, on the block's shared connection when one is open for `engine`."""
    shared = _shared.get()
    if shared is not None and shared.engine is engine:
        return await shared.all(statement, parameters)
    return await _alone(engine, statement, parameters)


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


def among_parameter(dialect: str, column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """`among` with the keys left to a parameter `name`, given at execution: a statement
    built once with it is reused as it is, so SQLAlchemy neither builds it nor walks it for
    its cache key again (the key is kept on the statement), ~100 µs per read (issue 19)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(String())))
    return column.in_(bindparam(name, expanding=True))


async def write_alone(engine: AsyncEngine, statement: Executable) -> CursorResult[Any]:
    """One statement that writes, committed on its own. On PostgreSQL in autocommit: a
    single statement is atomic without BEGIN and COMMIT around it, which were two of its
    three round trips. SQLite runs it in a transaction of its own, as before."""
    if engine.dialect.name == "postgresql":
        async with one_statement(engine) as connection:
            return await connection.execute(statement)
    async with engine.begin() as connection:
        return await connection.execute(statement)


async def fetch(
    engine: AsyncEngine, statement: Select[Any], parameters: Parameters | None = None
) -> Sequence[Row[Any]]:
    """`parameters`: values of the statement's bound parameters (`among_parameter`)."""
    return await _rows(engine, statement, parameters)


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
    (row,) = await _rows(engine, counted)
    return int(row[0])
