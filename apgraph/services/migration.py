"""The legacy → cloud ERP migration as operators follow it: what shadow mode found."""

from collections.abc import Sequence

from apgraph.domain.ids import FacilityId
from apgraph.services.ports.connectors import MigrationDifference, MigrationDifferenceLog


async def migration_differences(
    facility_id: FacilityId, *, log: MigrationDifferenceLog, limit: int
) -> Sequence[MigrationDifference]:
    """The newest first. A facility not in shadow mode (any more) may still have old ones."""
    return await log.of_facility(facility_id, limit=limit)
