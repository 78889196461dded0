"""Refused token requests, audited one entry per burst instead of one per request.

Unauthenticated traffic must not grow the audit trail without bound, yet every refusal must
be traceable. Each refusal gets a random id, answered to the caller and logged with its
burst's id; the burst's one `token.refused` entry carries the burst id as its trace id and
says how many refusals it stands for (`count=`), from which address, why, between which
times, and its first and last refusal ids. (The refusal id says nothing about the burst, so
it cannot tell a caller whether a client id is registered.) A burst
is the refusals of one (client, address, reason) until `quiet` passes without another, or
`longest` after its first; it is then written by `run_until` in a transaction of its own, off
the request's path, so a flood of failures never contends for the database's write lock.

Refusals of client ids that are not registered share one subject (`unknown-client`) per
address and reason, so random ids cannot multiply the entries either; at most `max_bursts`
are open at once, and refusals beyond that join one overflow burst.
"""

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.services.ports.clock import Clock
from apgraph.store.audit import AuditRepository

log = logging.getLogger("apgraph.oauth")

UNKNOWN_CLIENT = "unknown-client"
OVERFLOW = "(many addresses)"
_SHOWN_IDS = 3  # unknown client ids named in an entry; the rest are counted
_ID_LENGTH = 64  # an unknown client id is the caller's text: never stored whole


@dataclass
class _Burst:
    burst_id: str
    subject: str
    source: str
    reason: str
    first_at: datetime
    last_at: datetime
    count: int = 0
    first_refusal: str = ""
    last_refusal: str = ""
    client_ids: set[str] = field(default_factory=set)  # unknown ids seen (capped)
    other_ids: int = 0

    def event(self) -> AuditEvent:
        detail = (
            f"count={self.count} reason={self.reason!r} source={self.source} "
            f"first={self.first_at.isoformat()} last={self.last_at.isoformat()} "
            f"refusals={self.first_refusal}..{self.last_refusal}"
        )
        if self.subject == UNKNOWN_CLIENT:
            named = ",".join(sorted(self.client_ids))
            detail += f" client_ids={named}" + (f" (+{self.other_ids} more)" * bool(self.other_ids))
        return AuditEvent(
            self.subject,
            "token.refused",
            AuditOutcome.DENIED,
            client_id=None if self.subject == UNKNOWN_CLIENT else self.subject,
            trace_id=self.burst_id,
            detail=detail,
        )


@dataclass
class RefusalLog:
    quiet: timedelta = timedelta(seconds=2)
    longest: timedelta = timedelta(seconds=60)
    max_bursts: int = 256
    _open: dict[tuple[str, str, str], _Burst] = field(default_factory=dict)
    _unwritten: list[_Burst] = field(default_factory=list)  # finished, their write failed

    def refused(
        self, *, client_id: str, registered: bool, source: str, reason: str, at: datetime
    ) -> str:
        """Counts one refusal into its burst; returns the refusal's id."""
        subject = client_id if registered else UNKNOWN_CLIENT
        key = (subject, source, reason)
        if key not in self._open and len(self._open) >= self.max_bursts:
            subject, source = UNKNOWN_CLIENT, OVERFLOW
            key = (subject, source, reason)
        burst = self._open.get(key)
        if burst is None:
            burst = _Burst(f"tr-{secrets.token_hex(6)}", subject, source, reason, at, at)
            self._open[key] = burst
        refusal_id = f"rf-{secrets.token_hex(8)}"
        burst.count += 1
        burst.last_at = at
        burst.first_refusal = burst.first_refusal or refusal_id
        burst.last_refusal = refusal_id
        if not registered:
            if len(burst.client_ids) < _SHOWN_IDS or client_id[:_ID_LENGTH] in burst.client_ids:
                burst.client_ids.add(client_id[:_ID_LENGTH])
            else:
                burst.other_ids += 1
        log.info(
            "token refused %s (burst %s) for %r from %s: %s",
            *(refusal_id, burst.burst_id, client_id[:_ID_LENGTH], source, reason),
        )
        return refusal_id

    def take_finished(self, now: datetime, *, everything: bool = False) -> list[_Burst]:
        finished = [
            burst
            for burst in self._open.values()
            if everything
            or now - burst.last_at >= self.quiet
            or now - burst.first_at >= self.longest
        ]
        for burst in finished:
            del self._open[(burst.subject, burst.source, burst.reason)]
        return finished

    async def write(self, audit: AuditRepository, clock: Clock, *, everything: bool = False) -> int:
        """Writes the finished bursts; one whose write fails is tried again next turn."""
        due, self._unwritten = (
            [*self._unwritten, *self.take_finished(clock.now(), everything=everything)],
            [],
        )
        for burst in due:
            try:
                await audit.record([burst.event()], at=burst.last_at)
            except Exception:
                log.exception("token refusals %s not yet audited; retrying", burst.burst_id)
                self._unwritten.append(burst)
        return len(due) - len(self._unwritten)

    async def run_until(
        self, stop: asyncio.Event, *, audit: AuditRepository, clock: Clock, interval: float
    ) -> None:
        while not stop.is_set():
            await self.write(audit, clock)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
        await self.write(audit, clock, everything=True)
