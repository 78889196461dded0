"""Named counters claimed with `UPDATE … RETURNING`, as the audit chain claims its head.

The claim holds the counter's row lock until the transaction ends: a concurrent claim waits,
so values are consecutive in commit order and a rolled-back claim is handed out again. A
counter whose row is missing (a fresh database, or one `seed --replace` emptied) starts after
the highest value already in the data, so it never collides with seeded rows.
"""

from collections.abc import Awaitable, Callable

from sqlalchemy import BigInteger, bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection

from apgraph.store.conflicts import insert_unless_present
from apgraph.store.reading import execute_kept
from apgraph.store.tables import CounterRow

Floor = Callable[[AsyncConnection], Awaitable[int]]
"""The highest value already used, read from the data the counter numbers."""

_counters = CounterRow.__table__.c


async def claim(connection: AsyncConnection, name: str, count: int, *, floor: Floor) -> int:
    """Claims `count` values in the caller's transaction; returns the last one claimed."""
    if count < 1:
        raise ValueError(f"claim at least one value, got {count}")
    last = await _advance(connection, name, count)
    if last is None:
        start = await floor(connection)
        await connection.execute(
            insert_unless_present(connection, CounterRow).values(name=name, last_value=start)
        )
        last = await _advance(connection, name, count)
    if last is None:
        raise RuntimeError(f"counter {name!r} vanished while it was being claimed")
    return last


_ADVANCE = (  # built once: a claim binds its counter and count (reading.execute_kept)
    update(CounterRow)
    .where(_counters.name == bindparam("counter"))
    .values(last_value=_counters.last_value + bindparam("count", type_=BigInteger()))
    .returning(_counters.last_value)
)


async def _advance(connection: AsyncConnection, name: str, count: int) -> int | None:
    claimed = await execute_kept(connection, _ADVANCE, {"counter": name, "count": count})
    return int(claimed[0]["last_value"]) if claimed else None
