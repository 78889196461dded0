"""What operators see of the connectors: every system's counters, breaker and a live ping."""

import asyncio
from collections.abc import Sequence

from apgraph.services.ports.connectors import ConnectorHealth, ConnectorProbe


async def check_connectors(probes: Sequence[ConnectorProbe]) -> list[ConnectorHealth]:
    """Pings every system at once; each ping is bounded by its own timeouts."""
    async with asyncio.TaskGroup() as group:
        pings = [group.create_task(probe.ping()) for probe in probes]
    return [
        ConnectorHealth(stats=probe.stats(), reachable=ping.result() is None, problem=ping.result())
        for probe, ping in zip(probes, pings, strict=True)
    ]
