"""One process's request and cost budgets (embedded mode), with no thread and no task.

Written by hand because limits' in-memory storages expire their windows off the request path
in a way that costs the request: the synchronous one starts a `threading.Timer` whenever the
last one (10 ms) has ended, and `Thread.start` blocks the event loop until the operating
system has run the new thread, which on a busy machine is most of a time slice; the async one
hops to a worker thread once per client key per hit (issue 19: on a loaded 2-core machine
`Thread.start` was over a third of a portal request's pipeline). Here a window is trimmed when
its key is read, and keys idle for a whole window are swept on the calling path, at most once
per window. Both answer limits' `WindowStats`, as the Redis strategies do, and run only on the
event loop (one thread): no locks.

- `MovingWindow`: exact; one timestamp per unit within the last window (requests: one each).
- `SlidingWindowCounter`: two counters per key, the previous window's weighted by the share
  of it still inside the sliding window, as limits' sliding window counter does.
"""

import math
import time
from collections import deque
from collections.abc import Callable

from limits import RateLimitItem, WindowStats

Clock = Callable[[], float]


class _Sweeping:
    """Drops the keys that nothing has touched for a whole window, once per window."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._swept_at = clock()

    @property
    def keys_held(self) -> int:
        """How many clients' windows are held in memory (what the sweep keeps bounded)."""
        return len(self._held())

    def _held(self) -> dict[str, object]:
        raise NotImplementedError

    def _sweep_if_due(self, now: float, expiry: float) -> None:
        if now - self._swept_at >= expiry:
            self._swept_at = now
            self._sweep(now, expiry)

    def _sweep(self, now: float, expiry: float) -> None:
        raise NotImplementedError


class MovingWindow(_Sweeping):
    """limits' moving window, in this process: at most `item.amount` units in any window."""

    def __init__(self, clock: Clock = time.time) -> None:
        super().__init__(clock)
        self._hits: dict[str, deque[float]] = {}

    async def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        now = self.clock()
        expiry = item.get_expiry()
        self._sweep_if_due(now, expiry)
        key = item.key_for(*identifiers)
        hits = self._trimmed(key, now, expiry)
        if len(hits) + cost > item.amount:
            return False
        hits.extend([now] * cost)
        self._hits[key] = hits
        return True

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        now = self.clock()
        expiry = item.get_expiry()
        hits = self._trimmed(item.key_for(*identifiers), now, expiry)
        # room again when the oldest unit in the window leaves it
        reset = hits[0] + expiry if hits else now
        return WindowStats(reset, item.amount - len(hits))

    def _held(self) -> dict[str, object]:
        return dict(self._hits)

    def _trimmed(self, key: str, now: float, expiry: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - expiry:
            hits.popleft()
        return hits

    def _sweep(self, now: float, expiry: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - expiry]:
            del self._hits[key]


class SlidingWindowCounter(_Sweeping):
    """limits' sliding window counter, in this process: the current fixed window's count plus
    the previous one's, weighted by how much of it the sliding window still covers."""

    def __init__(self, clock: Clock = time.time) -> None:
        super().__init__(clock)
        self._counts: dict[str, tuple[int, int, int]] = {}  # key: (window, previous, current)

    async def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        now = self.clock()
        expiry = item.get_expiry()
        self._sweep_if_due(now, expiry)
        key = item.key_for(*identifiers)
        window, previous, current = self._windows(key, now, expiry)
        if _weighted(previous, current, now, window, expiry) + cost > item.amount:
            return False
        self._counts[key] = (window, previous, current + cost)
        return True

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        now = self.clock()
        expiry = item.get_expiry()
        window, previous, current = self._windows(item.key_for(*identifiers), now, expiry)
        remaining = max(0, item.amount - _weighted(previous, current, now, window, expiry))
        if not (previous or current):
            return WindowStats(now, remaining)
        # room again at the latest when the current fixed window ends and its count becomes
        # the weighted previous one
        return WindowStats((window + 1) * expiry, remaining)

    def _held(self) -> dict[str, object]:
        return dict(self._counts)

    def _windows(self, key: str, now: float, expiry: float) -> tuple[int, int, int]:
        """(this fixed window's number, the previous window's count, this one's count)."""
        window = int(now // expiry)
        known, previous, current = self._counts.get(key, (window, 0, 0))
        if known == window:
            return window, previous, current
        if known == window - 1:
            return window, current, 0
        return window, 0, 0

    def _sweep(self, now: float, expiry: float) -> None:
        window = int(now // expiry)
        for key in [k for k, (known, _, _) in self._counts.items() if known < window - 1]:
            del self._counts[key]


def _weighted(previous: int, current: int, now: float, window: int, expiry: float) -> int:
    """The units the sliding window holds: the previous window's count weighted by the share
    of it the sliding window still covers (rounded down, as limits does), plus the current."""
    share = ((window + 1) * expiry - now) / expiry
    return math.floor(previous * share) + current
