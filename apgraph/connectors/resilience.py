"""The one wrapper around every external call (DESIGN §6): deadline, retries, breaker.

Retries and back-off come from tenacity: kept, asyncio-native, with an injectable sleep, and a
wait strategy that can read the failed attempt's exception, which is how a 429's Retry-After
is honoured. Only ConnectorUnavailable is retried (timeouts, connection errors, 5xx, 429);
a rejection (SOAP fault, 4xx) or an unmappable answer fails the call at once.

A write names an idempotency key and a lookup by that key: after an attempt whose answer may
have been lost, the next attempt asks the system first, so a lost response never posts twice.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import (
    BreakerState,
    ConnectorError,
    ConnectorStats,
    ConnectorUnavailable,
)

T = TypeVar("T")
Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class OutcomeUnknown(ConnectorUnavailable):
    """The request may have reached the system (a timeout after sending, a dropped connection,
    a 5xx): a write is looked up by its key before it is sent again."""


class RateLimited(ConnectorUnavailable):
    """HTTP 429. `retry_after`: seconds the system asked us to wait, when it said."""

    def __init__(self, system: ExternalSystem, message: str, *, retry_after: float | None) -> None:
        super().__init__(system, message)
        self.retry_after = retry_after


class BreakerOpen(ConnectorUnavailable):
    """The endpoint's breaker is open: the call failed fast, without reaching the system."""


@dataclass(frozen=True, slots=True)
class ResiliencePolicy:
    """gateway.yaml's `connectors.resilience`, in seconds."""

    connect_timeout: float
    read_timeout: float
    attempts: int
    backoff_initial: float
    backoff_max: float
    retry_after_max: float
    breaker_failures: int
    breaker_cooldown: float

    @property
    def deadline(self) -> float:
        """One attempt's limit, enforced here too: an in-process transport ignores httpx's."""
        return self.connect_timeout + self.read_timeout

    def http_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            self.read_timeout, connect=self.connect_timeout, pool=self.connect_timeout
        )


class CircuitBreaker:
    """CLOSED → OPEN after `failures` consecutive failures; OPEN → HALF_OPEN after `cooldown`;
    HALF_OPEN lets one trial call through, whose outcome closes or re-opens it."""

    # Hand-written: the asyncio breakers on PyPI (aiobreaker, purgatory) read the wall clock
    # themselves and keep their state private; tests need a clock, operators the state.

    def __init__(self, *, failures: int, cooldown: float, clock: Monotonic = time.monotonic):
        if failures < 1 or cooldown <= 0:
            raise ValueError("a breaker needs failures >= 1 and a positive cooldown")
        self._threshold = failures
        self._cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self._cooldown:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def admit(self) -> bool:
        """May a call go out now? In HALF_OPEN only one, the trial, until it reports back."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN or self._trial_running:
            return False
        self._trial_running = True
        return True

    def succeeded(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def failed(self) -> None:
        self._failures += 1
        if self._trial_running or self._failures >= self._threshold:
            self._opened_at = self._clock()
        self._trial_running = False

    def abandoned(self) -> None:
        """The admitted call ended without a verdict (cancelled): let another one try."""
        self._trial_running = False

    def reset(self) -> None:
        """An operator closes it by hand (the system is back; no need to wait the cooldown)."""
        self.succeeded()


class Endpoint:
    """One external system as its client sees it: the policy, a breaker, and counters."""

    def __init__(
        self,
        system: ExternalSystem,
        policy: ResiliencePolicy,
        *,
        address: str,
        clock: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.system = system
        self.policy = policy
        self.address = address
        self.breaker = CircuitBreaker(
            failures=policy.breaker_failures, cooldown=policy.breaker_cooldown, clock=clock
        )
        self._sleep = sleep
        self._calls = 0
        self._attempts = 0
        self._failures = 0
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None

    async def call(self, operation: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """A read: `attempt` again on retryable failures, within the policy's bounds."""
        return await self._run(operation, attempt, _Unanswered(False))

    async def write(
        self,
        operation: str,
        send: Callable[[], Awaitable[T]],
        *,
        find: Callable[[], Awaitable[T | None]],
        outcome_unknown: bool = False,
    ) -> T:
        """A write under an idempotency key that both `send` and `find` carry.

        Whenever an earlier attempt may have reached the system (`outcome_unknown` says so
        for attempts before this call, e.g. before a restart), the attempt runs `find` first
        and returns what it found instead of sending again. Fails with OutcomeUnknown when any
        attempt went unanswered, whatever stopped the later ones.
        """
        unanswered = _Unanswered(outcome_unknown)

        async def attempt() -> T:
            if unanswered.seen:
                found = await find()
                if found is not None:
                    return found
            return await send()

        try:
            return await self._run(operation, attempt, unanswered)
        except ConnectorUnavailable as error:
            if isinstance(error, OutcomeUnknown) or not unanswered.seen:
                raise
            raise OutcomeUnknown(self.system, f"{error} (after an unanswered attempt)") from error

    async def probe(self, request: Callable[[], Awaitable[object]]) -> str | None:
        """A ping past the breaker and the counters: None when it answered, else why not."""
        try:
            async with asyncio.timeout(self.policy.deadline):
                await request()
        except TimeoutError:
            return f"no answer within {self.policy.deadline:g} s"
        except ConnectorError as error:
            return str(error)
        return None

    def stats(self) -> ConnectorStats:
        return ConnectorStats(
            system=self.system,
            endpoint=self.address,
            breaker=self.breaker.state,
            calls=self._calls,
            attempts=self._attempts,
            failures=self._failures,
            last_error=self._last_error,
            last_error_at=self._last_error_at,
        )

    async def _run(
        self, operation: str, attempt: Callable[[], Awaitable[T]], unanswered: "_Unanswered"
    ) -> T:
        self._calls += 1
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.attempts),
            wait=self._wait,
            retry=retry_if_exception(self._retryable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for state in retrying:
                with state:
                    try:
                        return await self._once(operation, attempt)
                    except OutcomeUnknown:
                        unanswered.seen = True
                        raise
        except ConnectorError as error:
            self._failures += 1
            self._last_error = f"{operation}: {error} [{error.code.value}]"
            self._last_error_at = datetime.now(UTC)
            raise
        raise AssertionError("tenacity ends with a result or the last exception")  # unreachable

    async def _once(self, operation: str, attempt: Callable[[], Awaitable[T]]) -> T:
        if not self.breaker.admit():
            raise BreakerOpen(self.system, f"{operation}: circuit breaker open, not called")
        self._attempts += 1
        try:
            async with asyncio.timeout(self.policy.deadline):
                result = await attempt()
        except TimeoutError:
            self.breaker.failed()
            raise OutcomeUnknown(
                self.system, f"{operation}: no answer within {self.policy.deadline:g} s"
            ) from None
        except RateLimited:
            self.breaker.succeeded()  # it answered: throttling is not an outage
            raise
        except ConnectorUnavailable:
            self.breaker.failed()
            raise
        except ConnectorError:
            self.breaker.succeeded()  # a rejection or an odd payload: the system is up
            raise
        except BaseException:
            self.breaker.abandoned()
            raise
        self.breaker.succeeded()
        return result

    def _retryable(self, error: BaseException) -> bool:
        if isinstance(error, BreakerOpen) or not isinstance(error, ConnectorUnavailable):
            return False
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return error.retry_after <= self.policy.retry_after_max
        return True

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return error.retry_after
        backoff = wait_random_exponential(
            multiplier=self.policy.backoff_initial, max=self.policy.backoff_max
        )
        return float(backoff(state))


@dataclass(slots=True)
class _Unanswered:
    """Whether an attempt of one call (or one before it) may have reached the system."""

    seen: bool
