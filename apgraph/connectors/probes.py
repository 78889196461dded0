"""Each system's ConnectorProbe: its endpoint's counters, and its client's ping."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from apgraph.connectors.resilience import Endpoint
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import ConnectorStats


@dataclass(frozen=True, slots=True)
class Probe:
    endpoint: Endpoint
    pinger: Callable[[], Awaitable[str | None]]

    @property
    def system(self) -> ExternalSystem:
        return self.endpoint.system

    def stats(self) -> ConnectorStats:
        return self.endpoint.stats()

    async def ping(self) -> str | None:
        return await self.pinger()

    def reset_breaker(self) -> None:
        self.endpoint.breaker.reset()
