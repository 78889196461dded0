"""`configuration`: what this server runs with (operators, scope admin)."""

from apgraph.schema.configuration import ConfigurationType
from apgraph.schema.context import Info


async def configuration(info: Info) -> ConfigurationType | None:
    running = info.context.configuration
    return ConfigurationType.from_domain(running) if running is not None else None
