"""The in-process rate-limit storage: limits' own, giving back expired entries at most once
a second on the event loop instead of a thread hop per client on every hit (issue 19)."""

import time

import pytest
from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter

from apgraph.gateway.products import rate_limits
from apgraph.gateway.products.rate_limits import InProcessStorage, RateLimits


async def test_a_hit_schedules_no_task_and_no_thread() -> None:
    storage = InProcessStorage()
    limiter = MovingWindowRateLimiter(storage)
    item = RateLimitItemPerMinute(2)
    assert await limiter.hit(item, "client-a")
    # limits' own hook is ours (its name-mangled method is overridden): no expiry task
    assert storage.timer is None
    assert storage._expired_at > 0
    assert await limiter.hit(item, "client-a")
    assert not await limiter.hit(item, "client-a")  # the window is still exact
    assert await limiter.hit(item, "client-b")  # each key its own


async def test_expired_entries_and_counters_are_given_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage = InProcessStorage()
    limits = RateLimits(storage)
    assert (await limits.spend_request(5, product="p", client="c")).allowed
    assert (await limits.spend_cost(100, product="p", client="c", amount=40)).allowed
    assert storage.events
    assert storage.storage
    storage.expire()  # nothing is old yet
    assert storage.events
    assert storage.storage
    later = time.time() + 3 * rate_limits.WINDOW_SECONDS
    monkeypatch.setattr(time, "time", lambda: later)
    storage.expire()
    assert not storage.events
    assert not storage.storage
    assert not storage.expirations


async def test_passes_are_at_most_one_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = InProcessStorage()
    passes: list[float] = []
    monkeypatch.setattr(storage, "expire", lambda: passes.append(time.monotonic()))
    limiter = MovingWindowRateLimiter(storage)
    item = RateLimitItemPerMinute(100)
    for _ in range(10):
        await limiter.hit(item, "client")
    assert len(passes) == 1
    storage._expired_at -= rate_limits.EXPIRY_EVERY_SECONDS
    await limiter.hit(item, "client")
    assert len(passes) == 2
