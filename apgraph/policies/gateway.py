"""The sections of gateway.yaml known so far: facility route overrides, API products, limits.

Unknown keys are errors: a typo must not silently drop a setting.
"""

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from apgraph.domain import ids
from apgraph.domain.erp import ErpRoute, MigrationMode
from apgraph.domain.systems import ExternalSystem
from apgraph.policies.access import AccessPolicy
from apgraph.policies.approvals import ApprovalPolicy
from apgraph.policies.connectors import ConnectorsConfig
from apgraph.policies.matching import MatchingPolicy
from apgraph.policies.payments import PaymentPolicy
from apgraph.policies.products import Products
from apgraph.policies.retention import RetentionPolicy
from apgraph.policies.webhooks import WebhooksPolicy


def _facility_id(raw: str) -> str:
    return ids.facility(raw)


FacilityKey = Annotated[str, AfterValidator(_facility_id)]


def _erp(raw: object) -> object:
    return ExternalSystem.erp_named(raw) if isinstance(raw, str) else raw


# Operators write an ERP's short name (`erp: legacy`); the system name (`legacy_erp`) is read
# too, and the effective configuration shows the short name, as written before.
ErpName = Annotated[
    ExternalSystem, BeforeValidator(_erp), PlainSerializer(lambda system: system.erp_name)
]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FacilityRouting(_Section):
    """`erp` is the system of record: legacy until `migration` reaches cloud."""

    erp: ErpName
    migration: MigrationMode

    @model_validator(mode="after")
    def _erp_matches_migration(self) -> "FacilityRouting":
        expected = self.route.system_of_record
        if self.erp is not expected:
            raise ValueError(
                f"migration {self.migration.value} posts to the {expected.erp_name} ERP, "
                f"so erp must be {expected.erp_name}"
            )
        return self

    @property
    def route(self) -> ErpRoute:
        return ErpRoute(self.migration)


class Limits(_Section):
    max_page_size: int = Field(default=100, ge=1, le=1000)
    default_page_size: int = Field(default=20, ge=1)
    max_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=5000, ge=100)


class InternalSchema(_Section):
    """/graphql, the full internal schema, admits only operators: callers with `scope`. Null
    admits any signed-in caller, as before API products: only while clients move to theirs."""

    scope: str | None = Field(default="admin", min_length=1)


class GatewayConfig(_Section):
    # Overrides only: each facility is routed by the ERP and migration mode stored with it
    # (seeded or imported); a facility listed here is routed as listed instead.
    facilities: dict[FacilityKey, FacilityRouting] = Field(default_factory=dict)
    products: Products = Field(min_length=1)
    internal_schema: InternalSchema = InternalSchema()
    limits: Limits = Limits()
    access: AccessPolicy
    connectors: ConnectorsConfig
    matching: MatchingPolicy
    approvals: ApprovalPolicy
    payments: PaymentPolicy
    retention: RetentionPolicy = RetentionPolicy()
    webhooks: WebhooksPolicy = WebhooksPolicy()
