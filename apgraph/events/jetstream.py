"""The production EventBus on NATS JetStream (nats-py), for APGRAPH_BUS_URL=nats://….

One stream per event family: `<prefix>_INVOICE` holds invoice.*, `<prefix>_PAYMENT` holds
payment.* and remittance.*; a record's subject is `<prefix>.<family>.<type>`. Publishing
waits for JetStream's acknowledgement and sets `Nats-Msg-Id` to the event id, so a relay
that publishes a record again inside the duplicate window stores it once. Consumers are
durable pull consumers with explicit acks: a handler that raises is `nak`ed and the record
comes again. A NATS restart loses nothing: publishes fail with BusUnavailable, the relay
leaves the records in the outbox, and the client reconnects on its own.
"""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import Error as JetStreamError

from apgraph.events import envelope
from apgraph.services.ports.bus import BatchHandler, BusRejected, BusUnavailable, EventHandler
from apgraph.services.ports.unit_of_work import OutboxRecord

log = logging.getLogger("apgraph.bus")

FAMILIES = {"invoice": "invoice", "payment": "payment", "remittance": "payment"}
PUBLISH_TIMEOUT_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 2.0
FETCH_BATCH = 256
FETCH_WAIT_SECONDS = 0.5  # a long poll: messages arrive as soon as they are stored
RETRY_SECONDS = 0.5  # after NATS failed a fetch (restarting): try again
DUPLICATE_WINDOW_SECONDS = 120.0
ACK_WAIT_SECONDS = 30.0
MAX_DELIVER = 20
PRIVATE_CONSUMER_IDLE_SECONDS = 300.0  # a process's own consumer outlives it this long


class BusUnreachable(Exception):
    """NATS did not answer at start; the server refuses to run without its bus."""


@dataclass(frozen=True, slots=True)
class Streams:
    prefix: str

    def subject(self, event_type: str) -> str:
        return f"{self.prefix}.{self._family(event_type)}.{event_type}"

    def stream(self, event_type: str) -> str:
        return self._stream_of(self._family(event_type))

    def configs(self) -> list[StreamConfig]:
        return [
            StreamConfig(
                name=self._stream_of(family),
                subjects=[f"{self.prefix}.{family}.>"],
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
            )
            for family in sorted(set(FAMILIES.values()))
        ]

    def _stream_of(self, family: str) -> str:
        return f"{self.prefix}_{family.upper()}"

    @staticmethod
    def _family(event_type: str) -> str:
        family = FAMILIES.get(event_type.split(".", 1)[0])
        if family is None:
            raise ValueError(f"{event_type}: no stream for this event family")
        return family


class JetStreamBus:
    def __init__(self, client: Client, streams: Streams) -> None:
        self._client = client
        self._js = client.jetstream()
        self._streams = streams

    @classmethod
    async def connect(cls, url: str, *, prefix: str) -> "JetStreamBus":
        """Connected, with its streams in place; BusUnreachable (one line) when NATS is not."""
        try:
            await _probe(url)  # nats-py would retry a first connection as long as later ones
            client = await nats.connect(
                url,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                max_reconnect_attempts=-1,  # once running, ride out any restart
                allow_reconnect=True,
                error_cb=_log_error,
            )
        except (OSError, NatsError, TimeoutError) as error:
            raise BusUnreachable(
                f"event bus {url} is unreachable: {error or type(error).__name__}"
            ) from None
        bus = cls(client, Streams(prefix))
        try:
            for config in bus._streams.configs():
                await bus._js.add_stream(config)
        except (NatsError, JetStreamError, TimeoutError) as error:
            await client.close()
            raise BusUnreachable(
                f"event bus {url}: JetStream refused the streams: {error}"
            ) from None
        return bus

    async def publish(self, records: Sequence[OutboxRecord]) -> None:
        async def one(record: OutboxRecord) -> None:
            await self._js.publish(
                self._streams.subject(record.type),
                envelope.encode(record),
                timeout=PUBLISH_TIMEOUT_SECONDS,
                stream=self._streams.stream(record.type),
                headers={"Nats-Msg-Id": record.id},
            )

        try:
            await asyncio.gather(*(one(record) for record in records))
        except (NatsError, JetStreamError, TimeoutError) as error:
            raise BusUnavailable(f"NATS did not store the events: {error!r}") from None
        except ValueError as error:  # Streams: an event family without a stream
            raise BusRejected(str(error)) from None

    async def consume(
        self, consumer: str, handler: EventHandler, *, stop: asyncio.Event, shared: bool
    ) -> None:
        async def each(messages: list[Msg]) -> None:
            for message in messages:
                record = await _decoded(message)
                if record is None:
                    continue
                try:
                    await handler(record)
                except Exception:  # noqa: BLE001 - a consumer's failure means "deliver again"
                    log.exception("a consumer failed on %s; it comes again", record.id)
                    await message.nak()
                    continue
                await message.ack()

        await self._consume(consumer, each, stop=stop, shared=shared)

    async def consume_batches(
        self, consumer: str, handler: BatchHandler, *, stop: asyncio.Event
    ) -> None:
        """Each fetched batch (per stream, up to FETCH_BATCH) is acknowledged or offered
        again whole."""

        async def whole(messages: list[Msg]) -> None:
            taken = [(m, r) for m in messages if (r := await _decoded(m)) is not None]
            try:
                await handler([record for _, record in taken])
            except Exception:  # noqa: BLE001 - a consumer's failure means "deliver again"
                log.exception("a consumer failed on a batch of %d; it comes again", len(taken))
                for message, _ in taken:
                    await message.nak()
                return
            for message, _ in taken:
                await message.ack()

        await self._consume(consumer, whole, stop=stop, shared=True)

    async def _consume(
        self,
        consumer: str,
        take: Callable[[list[Msg]], Awaitable[None]],
        *,
        stop: asyncio.Event,
        shared: bool,
    ) -> None:
        name = f"{self._streams.prefix}_{consumer}"
        if not shared:
            name = f"{name}_{uuid.uuid4().hex[:12]}"

        def config(stream: StreamConfig) -> ConsumerConfig:  # nats-py fills in what it is given
            return ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL if shared else DeliverPolicy.NEW,
                ack_wait=ACK_WAIT_SECONDS,
                max_deliver=MAX_DELIVER,
                inactive_threshold=None if shared else PRIVATE_CONSUMER_IDLE_SECONDS,
                filter_subject=(stream.subjects or [""])[0],
            )

        async with asyncio.TaskGroup() as group:
            for stream in self._streams.configs():
                group.create_task(self._pull(stream, name, config(stream), take, stop))

    async def _pull(
        self,
        stream: StreamConfig,
        durable: str,
        config: ConsumerConfig,
        take: Callable[[list[Msg]], Awaitable[None]],
        stop: asyncio.Event,
    ) -> None:
        assert stream.name is not None
        subscription = None
        while not stop.is_set():
            try:
                if subscription is None:
                    subscription = await self._js.pull_subscribe(
                        config.filter_subject or "",
                        durable=durable,
                        stream=stream.name,
                        config=config,
                    )
                messages = await subscription.fetch(FETCH_BATCH, timeout=FETCH_WAIT_SECONDS)
            except (NatsTimeout, TimeoutError):  # nothing new within the long poll
                continue
            except (NatsError, JetStreamError) as error:
                log.warning("fetching from %s failed, retrying: %r", stream.name, error)
                subscription = None
                await _pause(stop)
                continue
            await take(messages)

    async def close(self) -> None:
        await self._client.close()


async def _decoded(message: Msg) -> OutboxRecord | None:
    """The record a message carries; None for one that carries none (dropped for good)."""
    try:
        return envelope.decode(message.data)
    except envelope.EnvelopeError as error:
        log.error("dropping a message on %s: %s", message.subject, error)
        await message.term()
        return None


async def _probe(url: str) -> None:
    """Raises unless a NATS server answers at `url` with its INFO line."""
    parsed = urlsplit(url)
    async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
        reader, writer = await asyncio.open_connection(parsed.hostname, parsed.port or 4222)
        try:
            if not (await reader.readline()).startswith(b"INFO"):
                raise OSError("not a NATS server")
        finally:
            writer.close()


async def _pause(stop: asyncio.Event) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=RETRY_SECONDS)
    except TimeoutError:
        return


async def _log_error(error: Exception) -> None:
    log.warning("NATS: %r", error)
