"""What every repository shares: one pooled connection per query, keyset pages.

Reads take a connection per statement rather than one session per request, so the
DataLoaders of one GraphQL request can run their batches concurrently.
"""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.services.ports.reads import Page, PageRequest

T = TypeVar("T")


async def fetch(engine: AsyncEngine, statement: Select[Any]) -> Sequence[Row[Any]]:
    async with engine.connect() as connection:
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
    async with engine.connect() as connection:
        return int((await connection.execute(counted)).scalar_one())
