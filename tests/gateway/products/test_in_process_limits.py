"""The in-process budgets (embedded mode, products/local_windows.py): limits' moving window
and sliding window counter kept in this process with no thread and no task (limits' own
memory storages start a thread, or hop to one, to expire windows: issue 19)."""

import asyncio
import threading

import pytest
from limits import RateLimitItemPerMinute

from apgraph.gateway.products.local_windows import MovingWindow, SlidingWindowCounter
from apgraph.gateway.products.rate_limits import RateLimits


class Clock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self, now: float = 6_000_000.0) -> None:  # the start of a minute
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_budgets_start_no_task_and_no_thread_and_the_windows_stay_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given every thread start counted (each still starts), and the tasks running now
    started: list[threading.Thread] = []
    start = threading.Thread.start

    def counted(thread: threading.Thread) -> None:
        started.append(thread)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counted)
    tasks = len(asyncio.all_tasks())

    # when the budgets are made and spent from
    limits = RateLimits.in_memory()
    first = await limits.spend_request(2, product="p", client="client-a")
    second = await limits.spend_request(2, product="p", client="client-a")
    third = await limits.spend_request(2, product="p", client="client-a")
    other = await limits.spend_request(2, product="p", client="client-b")
    await limits.spend_cost(100, product="p", client="client-a", amount=10)

    # then no thread was started and no task is left (limits' memory storage started a
    # timer thread when made and whenever the last had ended; its async one, a task a hit)
    assert started == []
    assert len(asyncio.all_tasks()) == tasks
    assert (first.allowed, second.allowed, third.allowed) == (True, True, False)
    assert (first.remaining, second.remaining, third.remaining) == (1, 0, 0)
    assert third.reset_after > 0
    assert other.allowed  # each client its own budget


async def test_a_cost_that_would_overdraw_the_budget_takes_nothing() -> None:
    limits = RateLimits.in_memory()

    spent = await limits.spend_cost(100, product="p", client="c", amount=60)
    refused = await limits.spend_cost(100, product="p", client="c", amount=60)
    fits = await limits.spend_cost(100, product="p", client="c", amount=40)

    assert spent.allowed
    assert not refused.allowed
    assert refused.remaining == 40
    assert fits.allowed
    assert fits.remaining == 0


async def test_the_moving_window_frees_each_request_exactly_a_window_after_it() -> None:
    # given a budget of 2 a minute, spent at 0 s and 30 s
    clock = Clock()
    window = MovingWindow(clock)
    item = RateLimitItemPerMinute(2)
    start = clock.now
    assert await window.hit(item, "c")
    clock.now = start + 30
    assert await window.hit(item, "c")

    # when more come just before and at a minute after the first
    clock.now = start + 59.9
    just_before = await window.hit(item, "c")
    before_stats = await window.get_window_stats(item, "c")
    clock.now = start + 60
    at_a_minute = await window.hit(item, "c")
    clock.now = start + 89.9
    before_the_second_leaves = await window.hit(item, "c")

    # then the first is refused (and told when room comes), the second allowed: never more
    # than 2 within any 60 s
    assert not just_before
    assert before_stats.remaining == 0
    assert before_stats.reset_time == start + 60
    assert at_a_minute
    assert not before_the_second_leaves


async def test_the_sliding_counter_weights_the_previous_minute_by_what_is_left_of_it() -> None:
    # given a budget of 100 units a minute, all spent in one minute
    clock = Clock()
    counter = SlidingWindowCounter(clock)
    item = RateLimitItemPerMinute(100)
    start = clock.now
    assert await counter.hit(item, "c", cost=100)

    # when the next minute starts, then half of it has passed
    clock.now = start + 60
    at_the_boundary = await counter.hit(item, "c", cost=1)
    clock.now = start + 90
    half = await counter.get_window_stats(item, "c")
    too_much = await counter.hit(item, "c", cost=51)
    fits = await counter.hit(item, "c", cost=50)

    # then at the boundary the whole previous minute still counts; halfway, half of it does
    assert not at_the_boundary
    assert half.remaining == 50
    assert half.reset_time == start + 120
    assert not too_much
    assert fits
    assert (await counter.get_window_stats(item, "c")).remaining == 0

    # and two minutes on, nothing of it counts
    clock.now = start + 180
    assert (await counter.get_window_stats(item, "c")).remaining == 100


async def test_clients_idle_for_a_window_are_forgotten() -> None:
    # given many clients that each sent one request, and their counters
    clock = Clock()
    window, counter = MovingWindow(clock), SlidingWindowCounter(clock)
    item = RateLimitItemPerMinute(5)
    for client in range(50):
        await window.hit(item, f"client-{client}")
        await counter.hit(item, f"client-{client}")
    assert (window.keys_held, counter.keys_held) == (50, 50)

    # when one client comes back after two quiet minutes
    clock.now += 120
    await window.hit(item, "client-0")
    await counter.hit(item, "client-0")

    # then only its own windows are held: the others were swept on that call
    assert (window.keys_held, counter.keys_held) == (1, 1)
