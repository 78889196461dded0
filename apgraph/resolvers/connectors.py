"""`connectors` and `migrationDifferences`: what operators watch during the ERP migration."""

from typing import Annotated

import strawberry

from apgraph.domain import ids
from apgraph.domain.systems import ExternalSystem
from apgraph.schema.arguments import FacilityIdArgument
from apgraph.schema.connectors import (
    ConnectorStatusType,
    MigrationDifferenceType,
    ResetConnectorBreakersPayload,
)
from apgraph.schema.context import Info
from apgraph.schema.errors import BadUserInput, parse_id
from apgraph.services import connector_health, migration


async def connectors(info: Info) -> list[ConnectorStatusType] | None:
    found = await connector_health.check_connectors(info.context.connectors.probes)
    return [ConnectorStatusType.from_domain(health) for health in found]


async def reset_connector_breakers(
    info: Info,
    system: Annotated[
        ExternalSystem | None,
        strawberry.argument(description="The system whose breaker to close; null: every one."),
    ] = None,
) -> ResetConnectorBreakersPayload:
    reset = await connector_health.reset_breakers(info.context.connectors.probes, system)
    return ResetConnectorBreakersPayload(
        connectors=[ConnectorStatusType.from_domain(health) for health in reset]
    )


async def migration_differences(
    info: Info,
    facility_id: FacilityIdArgument,
    limit: Annotated[
        int | None,
        strawberry.argument(description="At most this many, newest first (default 100)."),
    ] = None,
) -> list[MigrationDifferenceType] | None:
    ctx = info.context
    size = ctx.page_limits.default_size if limit is None else limit
    if not 1 <= size <= ctx.page_limits.max_size:
        raise BadUserInput(
            f"`limit` must be between 1 and {ctx.page_limits.max_size}", argument="limit"
        )
    found = await migration.migration_differences(
        parse_id(ids.facility, facility_id, argument="facilityId"),
        log=ctx.connectors.migration_differences,
        limit=size,
    )
    return [MigrationDifferenceType.from_domain(difference) for difference in found]
