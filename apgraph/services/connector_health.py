"""What operators see of the connectors: every system's counters, breaker and a live ping."""

import asyncio
from collections.abc import Sequence

from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import ConnectorHealth, ConnectorProbe


async def reset_breakers(
    probes: Sequence[ConnectorProbe], system: ExternalSystem | None = None
) -> list[ConnectorHealth]:
    """Closes the breaker of `system` (every system when None) and reports each reset one as
    it stands now, pinged: an operator resets once the system is back, and sees whether it is."""
    chosen = [probe for probe in probes if system is None or probe.system is system]
    for probe in chosen:
        probe.reset_breaker()
    return await check_connectors(chosen)


async def check_connectors(probes: Sequence[ConnectorProbe]) -> list[ConnectorHealth]:
    """Pings every system at once; each ping is bounded by its own timeouts."""
    async with asyncio.TaskGroup() as group:
        pings = [group.create_task(probe.ping()) for probe in probes]
    return [
        ConnectorHealth(stats=probe.stats(), reachable=ping.result() is None, problem=ping.result())
        for probe, ping in zip(probes, pings, strict=True)
    ]
