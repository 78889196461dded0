"""The `products` section of gateway.yaml: named, versioned views of the one schema.

Each version names the root fields it exposes and the fields it hides elsewhere; the roles
it admits; its lifecycle; its limits (depth, aliases, tokens, cost, rates); whether it takes
only persisted operations. Data only: gateway/products/ builds and serves the views.
"""

from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from apgraph.domain.principal import Role

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", max_length=60)]
VersionName = Annotated[str, StringConstraints(pattern=r"^v[0-9]+$")]
FieldName = Annotated[str, StringConstraints(pattern=r"^[_A-Za-z][_0-9A-Za-z]*$")]
TypeField = Annotated[str, StringConstraints(pattern=r"^[_A-Za-z][_0-9A-Za-z]*\.[_A-Za-z]\w*$")]
# `Type.field`, `Type.field(argument)` or `Enum.VALUE`
HiddenName = Annotated[
    str, StringConstraints(pattern=r"^[_A-Za-z]\w*\.[_A-Za-z]\w*(\([_A-Za-z]\w*\))?$")
]


class Lifecycle(Enum):
    BETA = "beta"
    ACTIVE = "active"
    DEPRECATED = "deprecated"  # served, with Deprecation and Sunset headers
    RETIRED = "retired"  # refused, naming the successor


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class View(_Section):
    """What a version exposes: these root fields, every type they reach, minus `hidden`:
    fields and input fields (`Invoice.approvals`, `PaymentFilter.runId`), arguments
    (`Query.exceptionQueue(assignedTo)`) and enum values (`UserErrorCode.NOTHING_TO_PAY`)."""

    query: frozenset[FieldName] = Field(alias="Query", min_length=1)
    mutation: frozenset[FieldName] = Field(default=frozenset(), alias="Mutation")
    subscription: frozenset[FieldName] = Field(default=frozenset(), alias="Subscription")
    hidden: frozenset[HiddenName] = Field(
        default=frozenset(),
        description="`Type.field`, `Type.field(argument)` or `Enum.VALUE` left out of the view",
    )

    def root_fields(self, type_name: str) -> frozenset[str] | None:
        """The root fields shown on `type_name`; None when it is not a root type."""
        return {
            "Query": self.query,
            "Mutation": self.mutation,
            "Subscription": self.subscription,
        }.get(type_name)

    def hidden_arguments(self, type_name: str, field_name: str) -> frozenset[str]:
        """The arguments of `type_name.field_name` left out (`Type.field(argument)`)."""
        prefix = f"{type_name}.{field_name}("
        return frozenset(
            name.removeprefix(prefix).removesuffix(")")
            for name in self.hidden
            if name.startswith(prefix)
        )

    def hidden_members(self, type_name: str) -> frozenset[str]:
        """The fields, input fields or enum values of `type_name` left out."""
        prefix = f"{type_name}."
        return frozenset(
            name.removeprefix(prefix)
            for name in self.hidden
            if name.startswith(prefix) and not name.endswith(")")
        )


class ProductLimits(_Section):
    """Per operation (depth, aliases, tokens, cost) and per client per minute (rates)."""

    max_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=5000, ge=100)
    max_cost: int = Field(default=5000, ge=1, description="cost units one operation may use")
    requests_per_minute: int = Field(default=600, ge=1)
    cost_per_minute: int = Field(default=100_000, ge=1, description="cost units per minute")


class CostWeights(_Section):
    """The IBM cost-directive model: each object a field returns costs `object`, each scalar
    `scalar`; a list multiplies its items' cost by `first` (or the page size). `fields`
    overrides the weight of one field (`Type.field`), e.g. one that calls an ERP."""

    object: int = Field(default=1, ge=0)
    scalar: int = Field(default=0, ge=0)
    mutation: int = Field(default=10, ge=0)
    list_size: int = Field(default=10, ge=1, description="assumed items of an unpaged list")
    fields: dict[TypeField, int] = Field(default_factory=dict)


class PersistedOperations(_Section):
    """`required`: only operations on the list run (safelisting). `apq`: automatic persisted
    queries, a client may register a new operation by sending its text with its hash (never
    with `required`)."""

    required: bool = False
    apq: bool = False
    file: Path | None = Field(default=None, description="the allow-list, relative to gateway.yaml")

    @model_validator(mode="after")
    def _consistent(self) -> "PersistedOperations":
        if self.required and self.apq:
            raise ValueError("an allow-list that clients may register into allows everything")
        if self.required and self.file is None:
            raise ValueError("required persisted operations need a `file` holding the list")
        return self


class ProductVersion(_Section):
    status: Lifecycle
    view: View
    deprecated_since: date | None = Field(default=None, description="the Deprecation date")
    sunset: date | None = Field(default=None, description="when it is (or was) retired")
    successor: VersionName | None = Field(default=None, description="the version to move to")

    @model_validator(mode="after")
    def _lifecycle_complete(self) -> "ProductVersion":
        if self.status in (Lifecycle.DEPRECATED, Lifecycle.RETIRED) and self.successor is None:
            raise ValueError(f"a {self.status.value} version must name its successor")
        if self.status is Lifecycle.DEPRECATED and None in (self.sunset, self.deprecated_since):
            raise ValueError("a deprecated version must name deprecated_since and sunset")
        return self


class Product(_Section):
    title: str = Field(min_length=1)
    roles: frozenset[Role] = Field(min_length=1, description="the roles admitted")
    limits: ProductLimits = ProductLimits()
    cost: CostWeights = CostWeights()
    persisted_operations: PersistedOperations = PersistedOperations()
    introspection_in_production: bool = False
    versions: dict[VersionName, ProductVersion] = Field(min_length=1)

    @model_validator(mode="after")
    def _successors_exist(self) -> "Product":
        for name, version in self.versions.items():
            if version.successor is not None and version.successor not in self.versions:
                raise ValueError(f"{name}: successor {version.successor} is not a version")
        return self


Products = dict[Slug, Product]
