"""Partner webhooks after commit: the bus consumer that plans one delivery per (event,
webhook) a partner may receive, and the worker that makes them, signed and retried.

Planning is idempotent (one row per event and webhook), so a record the bus delivers twice
plans once. Each attempt claims its row first (a conditional UPDATE), so two processes never
send one delivery at once; a process that dies mid-attempt leaves the claim to expire and the
delivery to be tried again. Deliveries are signed the Standard Webhooks way (`webhook-id`,
`webhook-timestamp`, `webhook-signature`); `webhook-id` is the same on every attempt and
replay, so a receiver drops what it accepted before.
"""

import asyncio
import ipaddress
import json
import logging
import random
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

import httpx
from standardwebhooks import Webhook as Signer

from apgraph.domain.dead_letters import DeadLetter, DeadLetterKind
from apgraph.domain.principal import Principal
from apgraph.domain.problems import Problem
from apgraph.domain.webhooks import (
    Delivery,
    DeliveryStatus,
    IpAddress,
    ReadRules,
    RetryPolicy,
    TargetPolicy,
    first_allowed,
    literal_address,
    parse_target,
)
from apgraph.events import envelope
from apgraph.services.periodic import repeat_until
from apgraph.services.ports.bus import EventBus
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.dead_letters import DeadLetterWriter, ReplayResult
from apgraph.services.ports.unit_of_work import OutboxRecord
from apgraph.services.ports.webhooks import DeliveryQueue, HostResolver, PlannedDelivery

log = logging.getLogger("apgraph.webhooks")

CONSUMER = "webhooks"
BATCH = 100
CONCURRENT_SENDS = 16
CLAIM_MARGIN = timedelta(seconds=30)  # beyond the request timeout, before another may retry
USER_AGENT = "apgraph-webhooks/1"


class Outcome(Enum):
    """What one attempt came to; counted by the composition root's `observe`."""

    ACCEPTED = "accepted"
    FAILED = "failed"  # to be tried again
    DEAD = "dead"  # the last attempt failed


FAILED_CODE = "WEBHOOK_DELIVERY_FAILED"  # the dead letter's code; its detail says why
REPLAYED_BY = "webhooks.replay"
DELIVERED = "DELIVERED"  # a replayed letter's outcome
PENDING = "WEBHOOK_DELIVERY_PENDING"  # a replay found the delivery being retried already


async def resolve_host(host: str, port: int) -> list[IpAddress]:
    """The system resolver, off the event loop; [] when the name does not resolve."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in found))


@dataclass(frozen=True)
class WebhookPlanner:
    """The bus consumer: each committed event becomes the deliveries it owes, persisted."""

    queue: DeliveryQueue
    rules: ReadRules
    clock: Clock
    wake: asyncio.Event | None = None  # set when something was planned: deliver at once
    # an operator's replay to one webhook (`events replay --to webhook:<id>`): that webhook
    # only, and events from before it was registered too, since the operator asked for them
    only: str | None = None

    async def receive(self, record: OutboxRecord) -> None:
        """One record: `receive_all` of a batch of one."""
        await self.receive_all([record])

    async def receive_all(self, records: Sequence[OutboxRecord]) -> None:
        """A batch, in order, as the bus holds it together (a relay's published batch, a
        fetched batch, a replay). Deliveries are keyed by (event, webhook): an event the
        webhook already has, delivered or waiting, is not planned again.

        The webhooks are read once per batch, after every event in it committed (the relay
        publishes committed records only), instead of once per event. So a webhook registered
        before an event occurred is on file when the event is planned, and one removed before
        its batch was read receives nothing of it. One removed between the read and the
        batch's plan (one statement later, as it was between each event's read and plan) may
        get a delivery planned, which is never sent: the dispatcher looks for the webhook's
        secret before every attempt ("the webhook was removed"). A webhook receives what
        happened after it was registered: a bus that delivers its history again (a JetStream
        consumer created anew) sends no old event to a new one."""
        if not records:
            return
        subscribers = await self.queue.subscribers({record.type for record in records})
        planned = [
            PlannedDelivery(
                event_id=record.id,
                event_type=record.type,
                webhook_id=subscriber.webhook.id,
                body=_body(record),
            )
            for record in records
            for subscriber in subscribers
            if record.type in subscriber.webhook.event_types
            and (self.only is None or subscriber.webhook.id == self.only)
            and (self.only is not None or record.occurred_at >= subscriber.webhook.created_at)
            and self.rules.may_receive(
                subscriber.client,
                event_type=record.type,
                supplier_id=record.supplier_id,
                facility_id=record.facility_id,
            )
        ]
        if await self.queue.plan(planned, at=self.clock.now()) and self.wake is not None:
            self.wake.set()

    async def run(self, bus: EventBus, stop: asyncio.Event) -> None:
        """One durable consumer shared by every process: each batch is planned by one."""
        await bus.consume_batches(CONSUMER, self.receive_all, stop=stop)


def _body(record: OutboxRecord) -> bytes:
    """The CloudEvent partners receive: the bus's shape without the internal trace id."""
    event = envelope.to_cloudevent(record)
    event.pop("traceid", None)
    return json.dumps(event, separators=(",", ":")).encode()


@dataclass
class WebhookDispatcher:
    """Makes due deliveries. `run_once` is the whole step: tests drive it with their clock."""

    queue: DeliveryQueue
    http: httpx.AsyncClient  # follows no redirects: a 3xx is a failed attempt
    clock: Clock
    retries: RetryPolicy
    targets: TargetPolicy
    timeout: float
    resolve: HostResolver = resolve_host
    jitter: Callable[[], float] = random.random
    observe: Callable[[Outcome], None] = lambda _: None
    dead_letters: DeadLetterWriter | None = None  # None: the delivery row alone says DEAD
    batch: int = BATCH
    _sends: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CONCURRENT_SENDS))

    async def run_once(self) -> int:
        """Attempts every delivery due now (up to a batch); returns how many were attempted."""
        now = self.clock.now()
        due = await self.queue.due(now=now, limit=self.batch)
        claimed = [
            delivery
            for delivery in due
            if await self.queue.claim(delivery.id, now=now, until=self._claim_until())
        ]
        async with asyncio.TaskGroup() as group:
            for delivery in claimed:
                group.create_task(self._attempt(delivery))
        return len(claimed)

    async def replay(self, delivery_id: str, *, by: str = REPLAYED_BY) -> bool | None:
        """One more attempt of a dead delivery, now. True: accepted (its dead letter resolved,
        `by` whom); False: failed (dead again, one more attempt on the letter); None: not
        dead (accepted before, or unknown), so nothing is sent: replaying twice delivers once."""
        if not await self.queue.revive(
            delivery_id, now=self.clock.now(), until=self._claim_until()
        ):
            return None
        delivery = await self.queue.get(delivery_id)
        assert delivery is not None  # it was just revived
        return await self._attempt(delivery, replayed_by=by)

    async def replay_letter(self, letter: DeadLetter, principal: Principal) -> ReplayResult:
        """The dead-letter store's handler for WEBHOOK_DELIVERY letters (subject: the
        delivery id). A removed webhook resolves its letters: there is nowhere to deliver."""
        delivery = await self.queue.get(letter.subject)
        if delivery is None:
            return ReplayResult(resolved=True, outcome="DELIVERY_UNKNOWN")
        if await self.queue.secret_of(delivery.webhook_id) is None:
            return ReplayResult(resolved=True, outcome="WEBHOOK_REMOVED")
        sent = await self.replay(delivery.id, by=principal.subject)
        if sent is None:  # delivered before, or another replay is under way
            now = await self.queue.get(delivery.id)
            delivered = now is not None and now.status is DeliveryStatus.DELIVERED
            return ReplayResult(resolved=delivered, outcome=DELIVERED if delivered else PENDING)
        return ReplayResult(resolved=sent, outcome=DELIVERED if sent else FAILED_CODE)

    async def run_until(
        self, stop: asyncio.Event, *, interval: float, wake: asyncio.Event | None
    ) -> None:
        async def more() -> bool:
            return await self.run_once() >= self.batch

        await repeat_until(stop, more, interval=interval, wake=wake)

    def _claim_until(self) -> datetime:
        return self.clock.now() + timedelta(seconds=self.timeout) + CLAIM_MARGIN

    async def _attempt(self, delivery: Delivery, *, replayed_by: str | None = None) -> bool:
        """`replayed_by`: an operator's replay, its one attempt the last."""
        last = replayed_by is not None
        attempts = delivery.attempts + 1
        async with self._sends:
            error = await self._send(delivery)
        now = self.clock.now()
        if error is None:
            await self.queue.delivered(delivery.id, attempts=attempts, at=now)
            self.observe(Outcome.ACCEPTED)
            if replayed_by is not None and self.dead_letters is not None:
                await self.dead_letters.resolve(
                    DeadLetterKind.WEBHOOK_DELIVERY,
                    delivery.id,
                    outcome=DELIVERED,
                    by=replayed_by,
                    at=now,
                )
            return True
        if last or attempts >= self.retries.attempts:
            log.warning(
                "webhook delivery %s is dead after %d attempts: %s", delivery.id, attempts, error
            )
            await self.queue.dead(delivery.id, attempts=attempts, error=error, at=now)
            self.observe(Outcome.DEAD)
            if self.dead_letters is not None:
                await self.dead_letters.record(
                    DeadLetterKind.WEBHOOK_DELIVERY,
                    delivery.id,
                    code=FAILED_CODE,
                    detail=error,
                    at=now,
                )
            return False
        delay = self.retries.delay_after(attempts, self.jitter())
        await self.queue.retry(delivery.id, attempts=attempts, error=error, next_at=now + delay)
        self.observe(Outcome.FAILED)
        return False

    async def _send(self, delivery: Delivery) -> str | None:
        """None when the receiver accepted (2xx); else why not, in one line."""
        secret = await self.queue.secret_of(delivery.webhook_id)
        if secret is None:
            return "the webhook was removed"
        target = parse_target(delivery.url)
        if isinstance(target, Problem):
            return target.message
        literal = literal_address(target.host)
        addresses = (
            [literal] if literal is not None else await self.resolve(target.host, target.port)
        )
        # checked again at every attempt, and the connection goes to the checked address: a
        # name re-pointed at a private address after registration (DNS rebinding) reaches nothing
        address = first_allowed(target, addresses, self.targets)
        if isinstance(address, Problem):
            return address.message
        timestamp = self.clock.now()
        headers = {
            "content-type": envelope.MEDIA_TYPE,
            "user-agent": USER_AGENT,
            "webhook-id": delivery.id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": Signer(secret).sign(delivery.id, timestamp, delivery.body),
        }
        request = self.http.build_request(
            "POST",
            httpx.URL(delivery.url).copy_with(host=str(address)),
            headers={**headers, "host": _host_header(target.host, target.port, target.scheme)},
            content=delivery.body,
            timeout=self.timeout,
            extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
        )
        try:
            response = await self.http.send(request, follow_redirects=False)
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}"[:500]
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"


def _host_header(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return shown if port == default else f"{shown}:{port}"
