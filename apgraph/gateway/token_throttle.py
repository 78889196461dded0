"""Who may have a client secret checked at the token endpoint, before it is checked.

Three budgets, in the `limits` library's notation ("5/minute;20/hour"), none of them a lever
against a partner:

- per client id *and* source address: a ladder of windows, so a source that keeps guessing
  waits longer and longer (the next window's reset). An attacker who knows a partner's client
  id exhausts only their own address's budget; the partner, asking from its own address, is
  never refused. Cleared when that pair succeeds.
- per source address, failures across every client id: random client ids from one address
  are stopped too.
- failures overall: once spent, any source that failed within its window is refused at its
  next attempt, so a spray from many addresses gets one guess per address.

A source address that has not failed is never refused, whatever else happens. Attempts from
one address are checked one at a time (`one_at_a_time`), so concurrent guesses cannot
overshoot a budget before their failures are counted. Kept in the process (no Redis in
embedded mode): with several workers each counts its own.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

_SOURCE = "token-source"
_OVERALL = "token-overall"


class Refusal(Enum):
    """Why an attempt was refused before its secret was checked (the audit's `reason`)."""

    CLIENT_AND_SOURCE = "too many failures for this client from this address"
    SOURCE = "too many failures from this address"
    OVERALL = "too many failures overall, and this address failed too"


@dataclass(frozen=True, slots=True)
class Throttled:
    refusal: Refusal
    retry_after: int  # whole seconds, at least 1


def limits_of(text: str) -> list[RateLimitItem]:
    """`text` in the limits notation, checked; raises ValueError naming the problem."""
    items = parse_many(text)
    if not items:
        raise ValueError(f"no rate limit in {text!r}")
    return items


class TokenThrottle:
    def __init__(self, *, per_client_and_source: str, per_source: str, overall: str) -> None:
        self._pair = limits_of(per_client_and_source)
        self._source = limits_of(per_source)
        self._overall = limits_of(overall)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._gates: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def one_at_a_time(self, source: str) -> AsyncIterator[None]:
        """Serialises the attempts of one source address; others do not wait for it."""
        lock, users = self._gates.get(source, (asyncio.Lock(), 0))
        self._gates[source] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._gates[source]
            if users == 1:
                del self._gates[source]
            else:
                self._gates[source] = (lock, users - 1)

    def admit(self, client_id: str, source: str, *, now: float) -> Throttled | None:
        """None: check the secret, and report how it went with `failed` or `succeeded`."""
        if self._failed_lately(source):
            by_source = self._longest(Refusal.SOURCE, self._source, (_SOURCE, source), now)
            if by_source is not None:
                return by_source
            overall = self._longest(Refusal.OVERALL, self._overall, (_OVERALL,), now)
            if overall is not None:
                return overall
        return self._longest(Refusal.CLIENT_AND_SOURCE, self._pair, (client_id, source), now)

    def _longest(
        self,
        refusal: Refusal,
        items: list[RateLimitItem],
        identifiers: tuple[str, ...],
        now: float,
    ) -> Throttled | None:
        """The wait until every exhausted rung admits again: a caller told to come back when
        only the shortest one resets would be refused again (the longest wait is the true one)."""
        exhausted = [item for item in items if not self._limiter.test(item, *identifiers)]
        if not exhausted:
            return None
        waits = [self._throttled(refusal, item, identifiers, now) for item in exhausted]
        return max(waits, key=lambda throttled: throttled.retry_after)

    def failed(self, client_id: str, source: str) -> None:
        for item in self._pair:
            self._limiter.hit(item, client_id, source)
        for item in self._source:
            self._limiter.hit(item, _SOURCE, source)
        for item in self._overall:
            self._limiter.hit(item, _OVERALL)

    def succeeded(self, client_id: str, source: str) -> None:
        for item in self._pair:
            self._limiter.clear(item, client_id, source)

    def _failed_lately(self, source: str) -> bool:
        return any(
            self._limiter.get_window_stats(item, _SOURCE, source).remaining < item.amount
            for item in self._source
        )

    def _throttled(
        self, refusal: Refusal, item: RateLimitItem, identifiers: tuple[str, ...], now: float
    ) -> Throttled:
        reset = self._limiter.get_window_stats(item, *identifiers).reset_time
        return Throttled(refusal, max(1, int(reset - now) + 1))
