"""The embedded EventBus: records handed from the relay to this process's consumers in memory.

Nothing outlives the process, and that is enough in embedded mode: the outbox is the durable
copy, and a consumer that starts later catches up from it (subscriptions resume by cursor).

Shared consumers (webhook planning) do work that must never be lost, so `publish` hands them
each record itself and returns only once they took it: a process that dies a moment later has
lost nothing, since the relay marks a batch published only after `publish` returned. One that
raises makes `publish` raise BusUnavailable; the outbox keeps the batch and the relay offers it
again (the handler dedupes by event id). Per-process consumers (the subscription hub) get
records through an in-memory queue; one whose handler raises gets the record again, after the
ones already queued.
"""

import asyncio
from collections.abc import Sequence

from apgraph.services.ports.bus import BatchHandler, BusUnavailable, EventHandler
from apgraph.services.ports.unit_of_work import OutboxRecord

STOP_CHECK_SECONDS = 0.5  # how soon an idle consumer notices `stop`


class InProcessBus:
    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[OutboxRecord]] = {}
        self._durable: dict[str, BatchHandler] = {}

    async def publish(self, records: Sequence[OutboxRecord]) -> None:
        for consumer, handler in list(self._durable.items()):
            try:
                await handler(records)
            except Exception as error:  # noqa: BLE001 - any failure: offer the batch again
                raise BusUnavailable(f"consumer {consumer} did not take the batch") from error
        for queue in self._queues.values():
            for record in records:
                queue.put_nowait(record)

    async def consume(
        self, consumer: str, handler: EventHandler, *, stop: asyncio.Event, shared: bool
    ) -> None:
        """`shared`: handled inside `publish` (one process is every process here)."""
        if shared:

            async def each(records: Sequence[OutboxRecord]) -> None:
                for record in records:
                    await handler(record)

            await self.consume_batches(consumer, each, stop=stop)
            return
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

    async def consume_batches(
        self, consumer: str, handler: BatchHandler, *, stop: asyncio.Event
    ) -> None:
        """Handed each published batch inside `publish`, whole."""
        self._durable[consumer] = handler
        try:
            await stop.wait()
        finally:
            self._durable.pop(consumer, None)

    async def close(self) -> None:
        return None
