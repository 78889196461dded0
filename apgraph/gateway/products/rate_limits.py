"""Per client and product budgets, per minute: requests, and cost units (demand control).

Kept in memory for one process (embedded mode) or in Redis (APGRAPH_REDIS_URL), so every
instance spends from one budget. A moving window (the `limits` library's), so a client can
never send two budgets' worth across a window boundary.
"""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
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


def client_key(principal: Principal) -> str:
    """A registered client's budget is the client's, whoever it acts for; a user's, theirs."""
    return principal.client_id or principal.subject


class RateLimits:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)

    @classmethod
    def in_memory(cls) -> "RateLimits":
        return cls(MemoryStorage())

    @classmethod
    def open(cls, redis_url: str | None, *, key_prefix: str) -> "RateLimits":
        if redis_url is None:
            return cls.in_memory()
        uri = redis_url.replace("redis://", "async+redis://", 1)
        storage = storage_from_string(uri, key_prefix=key_prefix)
        if not isinstance(storage, Storage):
            raise ValueError(f"{redis_url}: not a Redis URL (redis://host:port)")
        return cls(storage)

    async def spend(
        self, kind: str, limit: int, *, product: str, client: str, amount: int = 1
    ) -> Verdict:
        """Takes `amount` from the client's `kind` budget on `product`, unless that would
        overdraw it (then nothing is taken)."""
        item: RateLimitItem = RateLimitItemPerMinute(limit, namespace=kind)
        identifiers = (product, client)
        allowed = amount <= limit and await self.limiter.hit(item, *identifiers, cost=amount)
        stats = await self.limiter.get_window_stats(item, *identifiers)
        reset_after = max(0, math.ceil(stats.reset_time - time.time()))
        return Verdict(allowed, limit, max(0, stats.remaining), reset_after)
