"""The SQL statements a service call sends, told apart from the server's background loops."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.default import NO_CACHE_KEY
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.store.database import counting_statements


class Sent(list[str]):
    """The statements sent, in order; `through_sqlalchemy`: those SQLAlchemy executed (the
    rest went on the driver, store/reading.py); `compiled_each_time`: those SQLAlchemy cannot
    cache (no cache key), so it compiles them anew on every execution."""

    def __init__(self) -> None:
        super().__init__()
        self.through_sqlalchemy: list[str] = []
        self.compiled_each_time: list[str] = []


_recording: ContextVar[Sent | None] = ContextVar("recording_statements", default=None)


@contextmanager
def statements_sent(engine: AsyncEngine) -> Iterator[Sent]:
    """Every statement the current task (and what it awaits) sends inside the block, in
    order, through SQLAlchemy or past it on the driver (the store counts both); what other
    tasks send meanwhile is left out. Filled when the block ends."""
    sent = Sent()
    token = _recording.set(sent)

    def keep(_connection: Any, _cursor: Any, statement: str, _params: Any, context: Any, *_: Any):
        recording = _recording.get()
        if recording is None:
            return
        recording.through_sqlalchemy.append(statement)
        compiled = context is not None and context.compiled is not None
        if compiled and context.cache_hit is NO_CACHE_KEY:
            recording.compiled_each_time.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", keep)
    try:
        with counting_statements(keeping_sql=True) as count:
            try:
                yield sent
            finally:
                sent.extend(count.sent or ())
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", keep)
        _recording.reset(token)


def touching(sent: list[str], table: str) -> list[str]:
    """The statements that name `table` (as a word: `invoices` is not `invoice_lines`)."""
    named = re.compile(rf"\b{re.escape(table)}\b")
    return [statement for statement in sent if named.search(statement)]
