"""Per client and product budgets, per minute: requests, and cost units (demand control).

Kept in memory for one process (embedded mode) or in Redis (APGRAPH_REDIS_URL), so every
instance spends from one budget, with the `limits` library. Requests: a moving window, exact
(a client never sends two budgets' worth across a window boundary; it keeps one entry per
request). Cost units: a sliding window counter, two counters per client whatever the amount
(a moving window would keep one entry per unit: 4 ms per request in Redis for the portal
page's 1951 units), exact within a window and weighting the previous one across the boundary.
"""

import bisect
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import (
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from limits.storage import storage_from_string

from apgraph.domain.principal import Principal

RATE_LIMITED = "RATE_LIMITED"
WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until the window has room again

    def headers(self, what: str) -> dict[str, str]:
        """RateLimit-* (IETF httpapi draft names) and, when refused, Retry-After."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after),
            "RateLimit-Policy": f'{self.limit};w={WINDOW_SECONDS};comment="{what}"',
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(self.reset_after, 1))
        return headers


EXPIRY_EVERY_SECONDS = 1.0


class InProcessStorage(MemoryStorage):
    """limits' in-memory storage, giving back expired entries at most once a second and
    on the event loop. limits starts an expiry pass after every hit, and the pass hops to a
    thread once per client key (to bisect a short list): one thread hop per active client
    per request, ~10 % of a portal page's CPU with a single client (issue 19). Whether a hit
    is allowed never depends on the pass (every check reads its entries' times and expiries
    itself), only how soon memory is given back. No critical section of limits' storage
    awaits, so this pass, which never awaits, cannot run inside one."""

    _expired_at = 0.0  # monotonic time of the last pass

    async def _MemoryStorage__schedule_expiry(self) -> None:  # limits calls it on every hit
        started = time.monotonic()
        if started - self._expired_at >= EXPIRY_EVERY_SECONDS:
            self._expired_at = started
            self.expire()

    def expire(self) -> None:
        """limits' own expiry pass (MemoryStorage.__expire_events), without the threads."""
        now = time.time()
        for key in list(self.events):
            events = self.events[key]
            kept = events[: bisect.bisect_left(events, -now, key=lambda event: -event.expiry)]
            if kept:
                self.events[key] = kept
            else:
                self.events.pop(key, None)
                self.locks.pop(key, None)
        for key in list(self.expirations):
            if self.expirations[key] <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)


def client_key(principal: Principal) -> str:
    """A registered client's budget is the client's, whoever it acts for; a user's, theirs."""
    return principal.client_id or principal.subject


class RateLimits:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.requests = MovingWindowRateLimiter(storage)
        self.units = SlidingWindowCounterRateLimiter(storage)

    @classmethod
    def in_memory(cls) -> "RateLimits":
        return cls(InProcessStorage())

    @classmethod
    def open(cls, redis_url: str | None, *, key_prefix: str) -> "RateLimits":
        if redis_url is None:
            return cls.in_memory()
        uri = redis_url.replace("redis://", "async+redis://", 1)
        storage = storage_from_string(uri, key_prefix=key_prefix)
        if not isinstance(storage, Storage):
            raise ValueError(f"{redis_url}: not a Redis URL (redis://host:port)")
        return cls(storage)

    async def spend_request(self, limit: int, *, product: str, client: str) -> Verdict:
        """One request from the client's requests-per-minute budget on `product`."""
        return await _spend(self.requests, "requests", limit, product, client, amount=1)

    async def spend_cost(self, limit: int, *, product: str, client: str, amount: int) -> Verdict:
        """`amount` cost units from the client's budget on `product`, unless that would
        overdraw it (then nothing is taken)."""
        return await _spend(self.units, "cost", limit, product, client, amount=amount)


async def _spend(
    limiter: RateLimiter, kind: str, limit: int, product: str, client: str, *, amount: int
) -> Verdict:
    item: RateLimitItem = RateLimitItemPerMinute(limit, namespace=kind)
    allowed = amount <= limit and await limiter.hit(item, product, client, cost=amount)
    stats = await limiter.get_window_stats(item, product, client)
    reset_after = max(0, math.ceil(stats.reset_time - time.time()))
    return Verdict(allowed, limit, max(0, stats.remaining), reset_after)
