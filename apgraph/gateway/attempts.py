"""Failed client-secret attempts per client id: after too many, refuse for a while.

Kept in the process (no Redis in embedded mode); with several workers each counts its own,
so the effective limit is per worker. Hand-written: a sliding window of timestamps.
"""

import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class FailedAttempts:
    max_failures: int = 5
    window_seconds: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def _recent(self, key: str) -> deque[float]:
        recent = self._failures[key]
        while recent and self.clock() - recent[0] > self.window_seconds:
            recent.popleft()
        return recent

    def locked_for(self, key: str) -> float:
        """Seconds until `key` may try again; 0 when it may try now."""
        recent = self._recent(key)
        if len(recent) < self.max_failures:
            return 0.0
        return max(0.0, self.window_seconds - (self.clock() - recent[0]))

    def failed(self, key: str) -> None:
        self._recent(key).append(self.clock())

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
