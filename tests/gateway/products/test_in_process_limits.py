"""The in-process budgets (embedded mode): limits' synchronous memory storage behind the async
interface, so a hit starts no expiry task and no thread hop per client (issue 19)."""

import asyncio

from apgraph.gateway.products.rate_limits import RateLimits


async def test_a_hit_starts_no_task_and_the_windows_stay_exact() -> None:
    limits = RateLimits.in_memory()
    before = len(asyncio.all_tasks())

    first = await limits.spend_request(2, product="p", client="client-a")
    second = await limits.spend_request(2, product="p", client="client-a")
    third = await limits.spend_request(2, product="p", client="client-a")
    other = await limits.spend_request(2, product="p", client="client-b")

    # limits' async memory storage scheduled an expiry task on every hit
    assert len(asyncio.all_tasks()) == before
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
