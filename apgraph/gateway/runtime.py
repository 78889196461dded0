"""What a running server holds for its whole life: settings, gateway.yaml, the engine."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.policies.gateway import GatewayConfig
from apgraph.services.ports import PageLimits
from apgraph.settings import Settings
from apgraph.store.database import create_engine


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    config: GatewayConfig
    engine: AsyncEngine

    @property
    def page_limits(self) -> PageLimits:
        limits = self.config.limits
        return PageLimits(default_size=limits.default_page_size, max_size=limits.max_page_size)

    @classmethod
    def open(cls, settings: Settings, config: GatewayConfig) -> "Runtime":
        engine = create_engine(settings.resolved_database_url, schema=settings.database_schema)
        return cls(settings=settings, config=config, engine=engine)

    async def close(self) -> None:
        await self.engine.dispose()
