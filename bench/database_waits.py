"""What PostgreSQL's backends of one database were doing during a benchmark: running, or
waiting, and on what (issue 19: "say what bounds it").

A sampler reads `pg_stat_activity` on a connection of its own, every `interval` seconds,
while the load runs, and counts each active backend by its wait (`Lock:transactionid`: a
row lock another transaction holds; `IO:WALSync`: a commit flushing; none: on a CPU or
about to be) and by the statement it runs, labelled by verb and first table
(`UPDATE counters`, `WITH … UPDATE counters`: the outbox's claim). A statistical picture,
like any sampling profiler: it says where backends spend their time, not how long one
statement takes. `pg_stat_activity` is PostgreSQL's own view; pg_stat_statements would
need the extension loaded at server start, which the benchmark does not assume.
"""

import asyncio
import contextlib
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import asyncpg

_ACTIVE = """
SELECT wait_event_type, wait_event, query FROM pg_stat_activity
WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
"""
_WRITE = re.compile(r"\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)
_READ = re.compile(r"\bFROM\s+\"?(\w+)", re.IGNORECASE)


def statement_label(query: str) -> str:
    """`UPDATE counters`, `WITH … INSERT outbox`, `SELECT invoices`, `COMMIT`: enough to
    tell the locks apart (the invoice number's bare `UPDATE counters` from the outbox's
    claim inside a WITH)."""
    words = query.split()
    if not words:
        return "?"
    verb = words[0].upper().rstrip(";")
    if verb in {"WITH", "UPDATE", "INSERT", "DELETE"}:
        written = _WRITE.search(query)
        if written:
            action = written.group(1).split()[0].upper()
            return f"{'WITH … ' if verb == 'WITH' else ''}{action} {written.group(2)}"
    if verb == "SELECT":
        read = _READ.search(query)
        return f"SELECT {read.group(1)}" if read else "SELECT"
    return verb


@dataclass
class Waits:
    """Samples of the database's active backends: (wait, statement) → count."""

    samples: int = 0  # sampling rounds
    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    sampled: asyncio.Condition = field(default_factory=asyncio.Condition)  # after each round

    async def until(self, holds: Callable[["Waits"], bool]) -> None:
        """Returns once the samples so far make `holds` true (checked after every round)."""
        async with self.sampled:
            await self.sampled.wait_for(lambda: holds(self))

    def add(self, rows: list[asyncpg.Record]) -> None:
        self.samples += 1
        for row in rows:
            wait = (
                f"{row['wait_event_type']}:{row['wait_event']}"
                if row["wait_event_type"]
                else "running"
            )
            self.seen[(wait, statement_label(row["query"] or ""))] += 1

    def report(self, top: int = 8) -> list[str]:
        """Lines for the benchmark's output: the busiest (wait, statement) pairs, as shares
        of all active-backend samples, and the mean number of active backends."""
        total = sum(self.seen.values())
        if not total:
            return ["PostgreSQL backends: none active in any sample"]
        lines = [
            f"PostgreSQL backends during the run ({self.samples} samples, "
            f"{total / self.samples:.2f} active on average):"
        ]
        for (wait, statement), count in self.seen.most_common(top):
            lines.append(f"  {count * 100 / total:5.1f} %  {wait:<22} {statement}")
        return lines


@contextlib.asynccontextmanager
async def sampling(dsn: str, *, interval: float = 0.01) -> AsyncIterator[Waits]:
    """Samples while the block runs; the sampler's own backend is left out."""
    waits = Waits()
    connection = await asyncpg.connect(dsn)

    async def sample() -> None:
        while True:
            waits.add(await connection.fetch(_ACTIVE))
            async with waits.sampled:
                waits.sampled.notify_all()
            await asyncio.sleep(interval)  # a sampling period, not a wait for an outcome

    task = asyncio.create_task(sample())
    try:
        yield waits
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await connection.close()
