"""What every repository shares: a pooled connection per read, keyset pages.

Reads take a connection per statement rather than one session per request, so the
DataLoaders of one GraphQL request can run their batches concurrently; inside
`sharing_one_connection` they share one connection instead, one statement at a time.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar, cast

import asyncpg
from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Executable,
    ReturnsRows,
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
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

from apgraph.services.ports.reads import Page, PageRequest
from apgraph.store.database import count_one_statement

T = TypeVar("T")
R = TypeVar("R")
Parameters = Mapping[str, Any]  # bound parameters' values by name
Values = Mapping[Any, Any]  # a row's values by column name (a RowMapping, an asyncpg Record)


@asynccontextmanager
async def one_statement(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection for a single statement, run without a transaction around it.

    On PostgreSQL one statement sees one snapshot whether or not a transaction surrounds
    it, and the BEGIN and ROLLBACK that would surround it were two of every three round trips
    of a read (issue 19). A statement sent on the driver (`_on_driver`) runs outside one
    as it is: SQLAlchemy's adapter begins a transaction only before a statement it executes
    itself, and ends none it did not begin. One that SQLAlchemy executes has the connection
    put in autocommit first (`_autocommit`). SQLite keeps its default (a local file: there is
    no round trip to save).
    """
    connection = await engine.connect()
    try:
        yield connection
    finally:
        await connection.close()


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

    async def run(self, read: Callable[[AsyncConnection], Awaitable[R]]) -> R:
        """`read` on the shared connection, when its turn comes."""
        self._wanted += 1
        try:
            async with self._turn:
                if self._closed:  # a task that outlived its block (its caller gave up on it)
                    async with one_statement(self.engine) as connection:
                        return await read(connection)
                if self._connection is None:
                    self._connection = await self.engine.connect()
                try:
                    return await read(self._connection)
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


_AUTOCOMMIT = "AUTOCOMMIT"


async def _autocommit(connection: AsyncConnection) -> None:
    """Puts a read's connection in autocommit on PostgreSQL before SQLAlchemy executes a
    statement on it, so that its adapter begins no transaction (see `one_statement`); the
    pool puts the default level back when the connection returns. Only then: setting the
    level, and the pool's putting it back, were ~2.5 % of a submission's instructions when
    every read's checkout did it, though most reads are sent on the driver (issue 19)."""
    if connection.dialect.name != "postgresql":
        return
    if connection.sync_connection is None:  # not started: as SQLAlchemy would say
        raise RuntimeError("a read's connection is not open")
    if connection.sync_connection.get_execution_options().get("isolation_level") != _AUTOCOMMIT:
        await connection.execution_options(isolation_level=_AUTOCOMMIT)


async def _rows(
    engine: AsyncEngine, statement: Executable, parameters: Parameters | None = None
) -> Sequence[Row[Any]]:
    """The statement's rows, on the block's shared connection when one is open for `engine`."""

    async def read(connection: AsyncConnection) -> Sequence[Row[Any]]:
        await _autocommit(connection)
        rows: Sequence[Row[Any]] = (await connection.execute(statement, parameters)).all()
        return rows

    return await _on_connection(engine, read)


async def _on_connection(engine: AsyncEngine, read: Callable[[AsyncConnection], Awaitable[R]]) -> R:
    """`read` on the block's shared connection when one is open for `engine`, else on a
    pooled connection of its own."""
    shared = _shared.get()
    if shared is not None and shared.engine is engine:
        return await shared.run(read)
    async with one_statement(engine) as connection:
        return await read(connection)


@dataclass(slots=True)
class _Prepared:
    """A kept statement compiled once for PostgreSQL: its SQL, where each bound parameter
    goes, and, once the first execution has told the result's types, what (if anything)
    each column's type does to a value read."""

    sql: str
    names: tuple[str, ...]  # the bound parameters' names, in the order of $1, $2, ...
    built_in: dict[str, Any]  # values bound when the statement was built (its scope's)
    to_driver: tuple[Callable[[Any], Any] | None, ...]  # per parameter: its type's bind step
    columns: tuple[ColumnElement[Any], ...]
    from_driver: tuple[Callable[[Any], Any] | None, ...] | None = field(default=None)

    def arguments(self, parameters: Parameters | None) -> list[Any]:
        given = self.built_in if not parameters else {**self.built_in, **parameters}
        if missing := [name for name in self.names if name not in given]:  # as SQLAlchemy says
            raise ValueError(f"a value is required for bind parameter {missing[0]!r}")
        return [
            value if step is None else step(value)
            for value, step in zip(
                (given[name] for name in self.names), self.to_driver, strict=True
            )
        ]


# The result's columns as the driver describes them, by SQL: the same for every scope whose
# statement has the same shape (a supplier's id is a parameter), so learnt once for them all.
# A facility scope's list is rendered into the SQL, so as many as `_prepared` keeps are kept.
_ATTRIBUTES_KEPT = 4096
_attributes: dict[str, Any] = {}


@lru_cache(maxsize=_ATTRIBUTES_KEPT)
def _prepared(dialect: Dialect, statement: Executable) -> _Prepared:
    """Kept per statement object (the kept statements are themselves kept per scope, or per
    kind of scope with the supplier a parameter given at execution: scoping.KeptScope; a
    scope's other values are among `built_in`). A read's columns are those it selects, a
    write's those it returns (none without RETURNING)."""
    # Parameters given at execution (`after`, the keys of among_parameter, the scope's
    # supplier) hold a placeholder here, and each must be given (`_Prepared.arguments`),
    # while the scope's lists (IN, expanded by SQLAlchemy) are rendered into the SQL.
    compiled = cast(SQLCompiler, cast(ClauseElement, statement).compile(dialect=dialect))
    given = [bind for bind in compiled.binds.values() if bind.required]
    if any(bind.expanding for bind in given):
        raise ValueError("a list given at execution: use among_parameter (one array)")
    required = {bind.key for bind in given}
    expanded = compiled.construct_expanded_state(dict.fromkeys(required))
    names = tuple(expanded.positiontup or ())
    columns = statement.exported_columns if isinstance(statement, ReturnsRows) else ()
    return _Prepared(
        sql=expanded.statement,
        names=names,
        # a required parameter's placeholder is not a value: reading without it must fail
        built_in={k: v for k, v in expanded.parameters.items() if k not in required},
        to_driver=tuple(expanded.processors.get(name) for name in names),
        columns=tuple(columns),
    )


async def _on_driver(
    connection: AsyncConnection, prepared: _Prepared, parameters: Parameters | None
) -> Sequence[Values]:
    """Runs `prepared` as a prepared statement of the asyncpg connection under `connection`
    (asyncpg keeps it per connection), in whatever transaction that connection is in."""
    dialect = connection.dialect
    arguments = prepared.arguments(parameters)
    driver = await driver_connection(connection)
    if prepared.from_driver is None:  # the first run: learn the result's types
        attributes = _attributes.get(prepared.sql)
        if attributes is None:  # once per SQL, which every scope of one shape shares
            attributes = (await driver.prepare(prepared.sql)).get_attributes()
            if len(_attributes) >= _ATTRIBUTES_KEPT:
                del _attributes[next(iter(_attributes))]  # the oldest learnt
            _attributes[prepared.sql] = attributes
        if len(attributes) != len(prepared.columns):
            raise RuntimeError(f"{len(attributes)} columns for {len(prepared.columns)}")
        prepared.from_driver = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, attribute.type.oid)
            for column, attribute in zip(prepared.columns, attributes, strict=True)
        )
    count_one_statement(prepared.sql)
    try:
        records = await driver.fetch(prepared.sql, *arguments)
    except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError):
        # past SQLAlchemy, so tell its pool: a lost connection must not be handed out again
        await connection.invalidate()
        raise
    steps = prepared.from_driver
    if not any(steps):
        return cast(Sequence[Values], records)  # a record answers by name, as a mapping
    names = list(records[0].keys()) if records else []
    return [
        {
            name: value if step is None else step(value)
            for name, value, step in zip(names, record.values(), steps, strict=True)
        }
        for record in records
    ]


async def driver_connection(connection: AsyncConnection) -> Any:
    """The asyncpg connection under a checked-out `connection`. While the pooled connection
    is valid, read from it as it is (`Connection.connection` does no I/O then); else through
    `get_raw_connection`, which reconnects as SQLAlchemy does. That one switches greenlets
    on every call, once per statement sent on the driver (issue 19)."""
    sync = connection.sync_connection
    if sync is not None and not sync.closed and not sync.invalidated:
        raw = sync.connection
    else:
        raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if driver is None:
        raise RuntimeError("the pooled connection has no driver connection")
    return driver


async def fetch_values(
    engine: AsyncEngine, statement: Select[Any], parameters: Parameters | None = None
) -> Sequence[Values]:
    """`fetch` for a statement built once and kept (module-level or lru_cache'd; `parameters`
    as for `fetch`), answering each row's values by column name.

    On PostgreSQL the statement is compiled once per kept statement and run as a prepared
    statement of the asyncpg connection that SQLAlchemy's pool hands out (asyncpg keeps it
    per connection), and its records are the rows: SQLAlchemy's per-execution work (the
    execution context, result metadata, a Row per record) was ~100-150 µs of each of a
    portal page's reads (issue 19). Same SQL and parameters as SQLAlchemy would send, the
    scope's conditions included; counted as a statement. A column whose type has a result
    step for the driver's type (none on the portal page's reads) is still passed through it.
    SQLite keeps SQLAlchemy's path (a local file, no driver of this kind).
    """
    if engine.dialect.name != "postgresql":
        return [row._mapping for row in await _rows(engine, statement, parameters)]
    prepared = _prepared(engine.dialect, statement)

    async def read(connection: AsyncConnection) -> Sequence[Values]:
        return await _on_driver(connection, prepared, parameters)

    return await _on_connection(engine, read)


async def execute_kept(
    connection: AsyncConnection, statement: Executable, parameters: Parameters | None = None
) -> Sequence[Values]:
    """A kept statement (built once; a read, or a write with or without RETURNING) on a unit
    of work's connection, in its transaction: the rows' values by column name (a write
    without RETURNING has none). On PostgreSQL it runs on the driver as `fetch_values` does,
    which saves SQLAlchemy's per-execution work, ~50 µs of CPU per statement, on each of
    the ~20 statements of a submission's units of work (issue 19). SQLite: SQLAlchemy.

    SQLAlchemy's asyncpg adapter sends BEGIN only before the first statement it executes
    itself, so one sent past it first would run outside the transaction: until the driver's
    connection is in a transaction (asyncpg's public `is_in_transaction`), the statement goes
    through SQLAlchemy, which begins the transaction as it always does (a unit of work's
    first statement costs SQLAlchemy's execution; the rest do not).
    """
    if connection.dialect.name != "postgresql":
        return await _through_sqlalchemy(connection, statement, parameters)
    if not connection.in_transaction():
        raise RuntimeError("execute_kept runs in a unit of work's transaction")
    driver = await driver_connection(connection)
    if not driver.is_in_transaction():  # nothing sent yet: SQLAlchemy's adapter begins
        values = await _through_sqlalchemy(connection, statement, parameters)
        if not driver.is_in_transaction():  # should the adapter ever change how it begins
            raise RuntimeError("the driver's connection is not in the unit of work's transaction")
        return values
    return await _on_driver(connection, _prepared(connection.dialect, statement), parameters)


async def _through_sqlalchemy(
    connection: AsyncConnection, statement: Executable, parameters: Parameters | None
) -> Sequence[Values]:
    result = await connection.execute(statement, parameters)
    return [row._mapping for row in result] if result.returns_rows else []


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


def among_parameter(
    dialect: str, column: ColumnElement[Any], name: str, *, keys: TypeEngine[Any] | None = None
) -> ColumnElement[bool]:
    """`among` with the keys left to a parameter `name`, given at execution: a statement
    built once with it is reused as it is, so SQLAlchemy neither builds it nor walks it for
    its cache key again (the key is kept on the statement), ~100 µs per read (issue 19).
    `keys`: the keys' type on PostgreSQL (default unbounded VARCHAR, as `among`)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(keys or String())))
    return column.in_(bindparam(name, expanding=True))


async def write_alone(
    engine: AsyncEngine, statement: Executable, parameters: Parameters | None = None
) -> Sequence[Values]:
    """One kept statement that writes (`parameters`: its bound parameters' values), committed
    on its own; the rows it returns, if it has RETURNING. On PostgreSQL in autocommit, on
    the driver as `fetch_values` runs a read: a single statement is atomic without BEGIN and
    COMMIT around it, which were two of its three round trips, and SQLAlchemy's execution
    was ~50 µs of CPU of each (every ERP posting sends two, issue 19). SQLite runs it in a
    transaction of its own, as before."""
    if engine.dialect.name == "postgresql":
        async with one_statement(engine) as connection:
            return await _on_driver(connection, _prepared(engine.dialect, statement), parameters)
    async with engine.begin() as connection:
        return await _through_sqlalchemy(connection, statement, parameters)


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
    parameters: Parameters | None = None,
) -> Page[T]:
    """Rows ordered by `key` after the cursor; one extra row tells whether more follow.
    `parameters`: values of the statement's bound parameters, as for `fetch`."""
    if page.after is not None:
        statement = statement.where(key > page.after)
    rows = await fetch(engine, statement.order_by(key).limit(page.first + 1), parameters)
    return Page(
        items=[to_domain(row) for row in rows[: page.first]],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


def counted(statement: Select[Any]) -> Select[Any]:
    """How many rows `statement` answers: one row, one column."""
    return select(func.count()).select_from(statement.order_by(None).subquery())


async def count(
    engine: AsyncEngine, statement: Select[Any], parameters: Parameters | None = None
) -> int:
    (row,) = await _rows(engine, counted(statement), parameters)
    return int(row[0])
