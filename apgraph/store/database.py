"""Engines for both backends, the per-request count of SQL statements, and the planner's
statistics after a bulk load."""

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger("apgraph.store")
SQLITE_ANALYSIS_LIMIT = 1000  # rows per index SQLite's ANALYZE reads (PRAGMA analysis_limit)


@dataclass(slots=True)
class StatementCount:
    statements: int = 0
    within: "StatementCount | None" = None  # an enclosing count: it counts these too
    sent: list[str] | None = None  # each statement's SQL in order, when the count keeps it


_current_count: ContextVar[StatementCount | None] = ContextVar("sql_statements", default=None)


@contextmanager
def counting_statements(*, keeping_sql: bool = False) -> Iterator[StatementCount]:
    """Counts the statements that the current task (and what it awaits) sends to the database,
    through SQLAlchemy or around it (reading.py's driver paths); `keeping_sql`: and keeps
    their SQL in `sent` (the tests and bench/submit_profile.py read which they were)."""
    count = StatementCount(within=_current_count.get(), sent=[] if keeping_sql else None)
    token = _current_count.set(count)
    try:
        yield count
    finally:
        _current_count.reset(token)


@contextmanager
def not_counted() -> Iterator[None]:
    """Statements that are the process's, not the request's (loading keys once), go
    uncounted even when a request happens to trigger them."""
    token = _current_count.set(None)
    try:
        yield
    finally:
        _current_count.reset(token)


def count_one_statement(sql: str) -> None:
    """Counts a statement sent around SQLAlchemy's execution (reading.py's driver paths)."""
    count = _current_count.get()
    while count is not None:
        count.statements += 1
        if count.sent is not None:
            count.sent.append(sql)
        count = count.within


def _count_statement(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
    count_one_statement(statement)


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    # WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
    # The busy timeout comes first: switching to WAL may itself wait for another connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, schema: str | None = None, pool_size: int = 10) -> AsyncEngine:
    """An async engine for `url`; `schema` puts every table of a PostgreSQL run in that schema."""
    if is_sqlite(url):
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        connect_args: dict[str, Any] = {}
        if schema is not None:
            connect_args["server_settings"] = {"search_path": schema}
        engine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, connect_args=connect_args
        )
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    return engine


async def refresh_statistics(engine: AsyncEngine, tables: Iterable[Table]) -> None:
    """Has the database's planner read `tables` again (ANALYZE) after a bulk load.

    Until autovacuum's next pass, and never where it is off (as on the machines the
    benchmarks ran on), PostgreSQL plans with an empty table's guesses: the portal page's
    statement joined all 679 of a supplier's invoices to their orders before keeping 51,
    8.3 ms of PostgreSQL's time per page, against 0.9 ms once analyzed (issue 19).
    PostgreSQL's ANALYZE reads a bounded sample of each table; SQLite's reads whole indexes
    unless told otherwise, so it is bounded here too (`analysis_limit`, rows per index).

    Each table is analyzed in a statement of its own, after the load committed: a failure
    (SQLite's write lock taken by another writer past the busy timeout, say) is logged, the
    other tables are still analyzed, and the load stands (autovacuum's to refresh then)."""
    async with engine.connect() as connection:
        quote = connection.dialect.identifier_preparer.quote
        sqlite = connection.dialect.name == "sqlite"
        for table in tables:
            try:
                async with connection.begin():
                    if sqlite:
                        limit = f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}"
                        await connection.exec_driver_sql(limit)
                    await connection.exec_driver_sql("ANALYZE " + quote(table.name))
            except SQLAlchemyError:
                log.warning(
                    "could not refresh the planner's statistics of %s", table.name, exc_info=True
                )


async def begin_writing(connection: AsyncConnection) -> None:
    """Begins a transaction that will write. On SQLite it takes the one write lock up front
    (BEGIN IMMEDIATE): a deferred transaction would read a snapshot first and could then fail
    to upgrade to writing when another writer got there in between."""
    await connection.begin()
    if connection.dialect.name == "sqlite":
        await connection.exec_driver_sql("BEGIN IMMEDIATE")
