"""Per client and product budgets, per minute: requests, and cost units (demand control).

Kept in memory for one process (embedded mode; products/local_windows.py, with limits'
semantics) or in Redis (APGRAPH_REDIS_URL) with the `limits` library, so every instance
spends from one budget. Requests: a moving window, exact (a client never sends two budgets'
worth across a window boundary; it keeps one entry per request). Cost units: a sliding
window counter, two counters per client whatever the amount (a moving window would keep one
entry per unit: 4 ms per request in Redis for the portal page's 1951 units), exact within a
window and weighting the previous one across the boundary.
"""

import math
import time
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItem, RateLimitItemPerMinute, WindowStats
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from apgraph.domain.principal import Principal
from apgraph.gateway.products.local_windows import MovingWindow, SlidingWindowCounter

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


class Limiter(Protocol):
    """What `_spend` needs of a limits strategy: the async one (Redis), or this process's
    own windows (products/local_windows.py)."""

    async def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool: ...

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats: ...


def client_key(principal: Principal) -> str:
    """A registered client's budget is the client's, whoever it acts for; a user's, theirs."""
    return principal.client_id or principal.subject


class RateLimits:
    def __init__(self, requests: Limiter, units: Limiter) -> None:
        self.requests = requests
        self.units = units

    @classmethod
    def in_memory(cls) -> "RateLimits":
        return cls(MovingWindow(), SlidingWindowCounter())

    @classmethod
    def open(cls, redis_url: str | None, *, key_prefix: str) -> "RateLimits":
        if redis_url is None:
            return cls.in_memory()
        uri = redis_url.replace("redis://", "async+redis://", 1)
        storage = storage_from_string(uri, key_prefix=key_prefix)
        if not isinstance(storage, Storage):
            raise ValueError(f"{redis_url}: not a Redis URL (redis://host:port)")
        return cls(MovingWindowRateLimiter(storage), SlidingWindowCounterRateLimiter(storage))

    async def spend_request(self, limit: int, *, product: str, client: str) -> Verdict:
        """One request from the client's requests-per-minute budget on `product`."""
        return await _spend(self.requests, "requests", limit, product, client, amount=1)

    async def spend_cost(self, limit: int, *, product: str, client: str, amount: int) -> Verdict:
        """`amount` cost units from the client's budget on `product`, unless that would
        overdraw it (then nothing is taken)."""
        return await _spend(self.units, "cost", limit, product, client, amount=amount)


async def _spend(
    limiter: Limiter, kind: str, limit: int, product: str, client: str, *, amount: int
) -> Verdict:
    item: RateLimitItem = RateLimitItemPerMinute(limit, namespace=kind)
    allowed = amount <= limit and await limiter.hit(item, product, client, cost=amount)
    stats = await limiter.get_window_stats(item, product, client)
    reset_after = max(0, math.ceil(stats.reset_time - time.time()))
    return Verdict(allowed, limit, max(0, stats.remaining), reset_after)
