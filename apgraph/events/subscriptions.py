"""The live feed behind every subscription: replay from a cursor, then the hub, seamlessly.

The listener is registered at the hub before the outbox is read, and remembers the hub's
position then (`since`): the replay reads the outbox up to `since`, the listener holds every
event after it. So nothing falls between replay and live, and nothing comes twice.

`admits` (the caller's row scope and filter) decides every event: the replay asks it here, the
hub asks it for live events, once for all listeners with an equal `admits`.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from apgraph.domain import event_cursors as cursors
from apgraph.events.hub import Hub, Listener, Overflow
from apgraph.services.ports.bus import CursorRejected, LiveEvent
from apgraph.services.ports.unit_of_work import Outbox, OutboxRecord

log = logging.getLogger("apgraph.subscriptions")

REPLAY_PAGE = 500


@dataclass(frozen=True, slots=True)
class LiveFeed:
    """One connection's view of the hub. `on_overflow` closes that connection (WebSocket
    close code, or the end of an SSE stream) when a subscriber's queue overflows."""

    hub: Hub
    outbox: Outbox
    queue_size: int  # events waiting for a slow subscriber before it is cut off
    resume_window: int  # how many events back a cursor may resume from
    on_overflow: Callable[[], Awaitable[None]]

    async def open(
        self, *, after: str | None, admits: Callable[[OutboxRecord], bool]
    ) -> AsyncIterator[LiveEvent]:
        start = None if after is None else await self._resume_point(after)
        # registered now, not at the first read: from this moment nothing is missed
        listener = self.hub.listen(self.queue_size, admits)
        return self._stream(listener, start, admits)

    async def _resume_point(self, cursor: str) -> int:
        try:
            sequence, event_id = cursors.parse(cursor)
        except cursors.MalformedCursor as malformed:
            raise CursorRejected(str(malformed)) from None
        found = await self.outbox.after(sequence - 1, 1) if sequence > 0 else []
        if not found or found[0].sequence != sequence or found[0].id != event_id:
            raise CursorRejected("`after` is not a cursor this server gave out")
        if self.hub.position - sequence > self.resume_window:
            raise CursorRejected(
                f"`after` is more than {self.resume_window} events old: subscribe without it "
                "and read what you missed through the `events` query",
                too_old=True,
            )
        return sequence

    async def _stream(
        self, listener: Listener, start: int | None, admits: Callable[[OutboxRecord], bool]
    ) -> AsyncIterator[LiveEvent]:
        try:
            seen = listener.since if start is None else start
            while seen < listener.since:
                page = await self.outbox.after(seen, min(REPLAY_PAGE, listener.since - seen))
                if not page:
                    break
                for record in page:
                    if admits(record):
                        yield LiveEvent(record, cursors.cursor_of(record.sequence, record.id))
                seen = page[-1].sequence
            try:
                async for live in listener:  # admitted by the hub already
                    yield live
            except Overflow:
                log.info("a subscriber fell %d events behind; closing it", self.queue_size)
                await self.on_overflow()
        finally:
            self.hub.drop(listener)
