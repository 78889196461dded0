"""The one resilience wrapper: which failures are retried, and the breaker's states."""

from datetime import UTC, datetime

import pytest

from apgraph.connectors.http import retry_after_seconds
from apgraph.connectors.resilience import (
    BreakerOpen,
    CircuitBreaker,
    Endpoint,
    OutcomeUnknown,
    RateLimited,
)
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import (
    BreakerState,
    ConnectorError,
    ConnectorMappingError,
    ConnectorRejected,
    ConnectorUnavailable,
)
from apgraph.simulators.faults import Fault, FaultKind
from tests.connectors.support import FAST, RecordedSleeps, build_stack

SYSTEM = ExternalSystem.MATERIALS


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def failing(error: ConnectorError):
    calls = []

    async def attempt() -> str:
        calls.append(1)
        raise error

    return attempt, calls


@pytest.mark.parametrize(
    ("error", "attempts"),
    [
        (ConnectorUnavailable(SYSTEM, "connection refused"), 3),
        (OutcomeUnknown(SYSTEM, "read timeout"), 3),
        (RateLimited(SYSTEM, "429", retry_after=None), 3),
        (ConnectorRejected(SYSTEM, "HTTP 404"), 1),
        (ConnectorMappingError(SYSTEM, "quantity", "missing"), 1),
    ],
)
async def test_only_failures_where_retrying_may_help_are_retried(error, attempts):
    endpoint = Endpoint(SYSTEM, FAST, address="test", sleep=RecordedSleeps())
    attempt, calls = failing(error)

    with pytest.raises(type(error)):
        await endpoint.call("op", attempt)

    assert len(calls) == attempts


def test_the_breaker_opens_at_the_threshold_and_half_opens_after_the_cooldown():
    clock = ManualClock()
    breaker = CircuitBreaker(failures=2, cooldown=30, clock=clock)

    breaker.failed()
    assert breaker.state is BreakerState.CLOSED
    breaker.failed()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.admit()

    clock.now += 30
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.admit()  # the one trial
    assert not breaker.admit()  # nobody else while it runs


@pytest.mark.parametrize(
    ("trial_succeeds", "after"), [(True, BreakerState.CLOSED), (False, BreakerState.OPEN)]
)
def test_the_half_open_trial_decides(trial_succeeds, after):
    clock = ManualClock()
    breaker = CircuitBreaker(failures=1, cooldown=5, clock=clock)
    breaker.failed()
    clock.now += 5
    assert breaker.admit()

    breaker.succeeded() if trial_succeeds else breaker.failed()

    assert breaker.state is after


def test_a_success_resets_the_count_of_consecutive_failures():
    breaker = CircuitBreaker(failures=2, cooldown=5, clock=ManualClock())
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    assert breaker.state is BreakerState.CLOSED


async def test_over_loopback_the_breaker_opens_fails_fast_then_half_opens_and_closes(
    served, ledger_engine, network
):
    # given materials management failing every request, and a breaker on a manual clock
    clock = ManualClock()
    stack = build_stack(served, ledger_engine, clock=clock)
    mm = served.simulators.materials
    order = network.goods_receipts[0].purchase_order_id
    operation = f"GET /api/purchase-orders/{order}/receipts"
    mm.plan.add(Fault(FaultKind.ERROR, times=None))
    endpoint = stack.endpoints[SYSTEM]
    try:
        # when calls fail until the breaker opens (5 failed attempts: 2 calls of 3 tries)
        for _ in range(2):
            with pytest.raises(ConnectorUnavailable):
                await stack.materials.receipts_for(order)
        assert endpoint.breaker.state is BreakerState.OPEN
        reached = mm.plan.calls[operation]

        # then, while open, calls fail fast without reaching the system
        with pytest.raises(BreakerOpen):
            await stack.materials.receipts_for(order)
        assert mm.plan.calls[operation] == reached == 5

        # and after the cool-down one trial goes through; the system is back, so it closes
        mm.plan.clear()
        clock.now += FAST.breaker_cooldown
        assert endpoint.breaker.state is BreakerState.HALF_OPEN
        assert await stack.materials.receipts_for(order)
        assert endpoint.breaker.state is BreakerState.CLOSED
    finally:
        await stack.aclose()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("7", 7.0),
        ("Wed, 25 Nov 2026 12:00:30 GMT", 30.0),
        ("Wed, 25 Nov 2026 11:59:00 GMT", 0.0),  # in the past: go now
        ("soon", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(header, seconds):
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(header, now=now) == seconds
