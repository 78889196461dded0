"""The embedded EventBus: records handed from the relay to this process's consumers in memory.

Nothing outlives the process, and that is enough in embedded mode: the outbox is the durable
copy, and a consumer that starts later catches up from it (subscriptions resume by cursor).
A handler that raises gets the record again, after the ones already queued.
"""

import asyncio
from collections.abc import Sequence

from apgraph.services.ports.bus import EventHandler
from apgraph.services.ports.unit_of_work import OutboxRecord

STOP_CHECK_SECONDS = 0.5  # how soon an idle consumer notices `stop`


class InProcessBus:
    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[OutboxRecord]] = {}

    async def publish(self, records: Sequence[OutboxRecord]) -> None:
        for queue in self._queues.values():
            for record in records:
                queue.put_nowait(record)

    async def consume(
        self, consumer: str, handler: EventHandler, *, stop: asyncio.Event, shared: bool
    ) -> None:
        """One process is every process here, so `shared` changes nothing."""
        queue = self._queues.setdefault(consumer, asyncio.Queue())
        try:
            while not stop.is_set():
                try:
                    record = await asyncio.wait_for(queue.get(), timeout=STOP_CHECK_SECONDS)
                except TimeoutError:
                    continue
                try:
                    await handler(record)
                except Exception:  # noqa: BLE001 - a consumer's failure means "deliver again"
                    queue.put_nowait(record)
        finally:
            self._queues.pop(consumer, None)

    async def close(self) -> None:
        return None
