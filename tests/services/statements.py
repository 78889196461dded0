"""The SQL statements a service call sends, told apart from the server's background loops."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_recording: ContextVar[list[str] | None] = ContextVar("recording_statements", default=None)


@contextmanager
def statements_sent(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement the current task (and what it awaits) sends through `engine` inside
    the block, in order; what other tasks send meanwhile is left out."""
    sent: list[str] = []
    token = _recording.set(sent)

    def keep(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        recording = _recording.get()
        if recording is not None:
            recording.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", keep)
        _recording.reset(token)


def touching(sent: list[str], table: str) -> list[str]:
    """The statements that name `table` (as a word: `invoices` is not `invoice_lines`)."""
    named = re.compile(rf"\b{re.escape(table)}\b")
    return [statement for statement in sent if named.search(statement)]
