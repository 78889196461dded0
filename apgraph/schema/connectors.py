"""The operators' view of the external systems: status per system, and what shadow mode found."""

import datetime
from typing import Self

import strawberry

from apgraph.domain.systems import ExternalSystem
from apgraph.schema.enums import register_enum
from apgraph.services.ports.connectors import BreakerState, ConnectorHealth, MigrationDifference

register_enum(ExternalSystem, name="ConnectorSystem")
register_enum(BreakerState, name="BreakerState")


@strawberry.type(name="ConnectorStatus", description="One external system, as this server sees it.")
class ConnectorStatusType:
    system: ExternalSystem = strawberry.field(description="Which system.")
    endpoint: str = strawberry.field(description='Its base URL, or "in-process" (simulators).')
    reachable: bool = strawberry.field(description="Did it answer a ping just now?")
    problem: str | None = strawberry.field(description="Why the ping failed; null if it answered.")
    breaker: BreakerState = strawberry.field(
        description="Its circuit breaker, as this server holds it."
    )
    calls: int = strawberry.field(description="Operations asked of it since the server started.")
    attempts: int = strawberry.field(description="Requests sent, retries included.")
    failures: int = strawberry.field(description="Operations that failed after every retry.")
    last_error: str | None = strawberry.field(description="The latest failure, with its code.")
    last_error_at: datetime.datetime | None = strawberry.field(
        description="When the latest failure happened."
    )

    @classmethod
    def from_domain(cls, health: ConnectorHealth) -> Self:
        stats = health.stats
        return cls(
            system=stats.system,
            endpoint=stats.endpoint,
            reachable=health.reachable,
            problem=health.problem,
            breaker=stats.breaker,
            calls=stats.calls,
            attempts=stats.attempts,
            failures=stats.failures,
            last_error=stats.last_error,
            last_error_at=stats.last_error_at,
        )


@strawberry.type(
    name="ResetConnectorBreakersPayload", description="resetConnectorBreakers' result."
)
class ResetConnectorBreakersPayload:
    connectors: list[ConnectorStatusType] = strawberry.field(
        description="Each system whose breaker was closed, as it stands now (pinged just now)."
    )


@strawberry.type(
    name="MigrationDifference",
    description="A field the cloud ERP's shadow posting booked otherwise than the legacy ERP.",
)
class MigrationDifferenceType:
    facility_id: strawberry.ID = strawberry.field(description="The facility in shadow mode.")
    invoice_id: strawberry.ID = strawberry.field(description="The invoice posted to both ERPs.")
    idempotency_key: str = strawberry.field(description="The posting key both ERPs were given.")
    field: str = strawberry.field(
        description='The canonical field, e.g. "dueDate"; "posting" when the cloud ERP failed.'
    )
    legacy_value: str | None = strawberry.field(
        description="The legacy ERP value (the one of record)."
    )
    cloud_value: str | None = strawberry.field(
        description="The cloud ERP's value; for a failed posting, its error code."
    )
    recorded_at: datetime.datetime = strawberry.field(description="When the difference was found.")

    @classmethod
    def from_domain(cls, found: MigrationDifference) -> Self:
        difference = found.difference
        return cls(
            facility_id=strawberry.ID(found.facility_id),
            invoice_id=strawberry.ID(found.invoice_id),
            idempotency_key=found.idempotency_key,
            field=_camel(difference.field),
            legacy_value=difference.legacy,
            cloud_value=difference.cloud,
            recorded_at=found.recorded_at,
        )


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)
