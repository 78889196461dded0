"""The `access` section of gateway.yaml: roles and their scopes, and what each field needs.

Data only; gateway/access.py enforces it on every field. Anything the file does not grant
is denied: a root field without a rule stops the server at start.
"""

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from apgraph.domain.principal import ALL_SCOPES, Role

ANY_SIGNED_IN = "*"


class RowAccess(Enum):
    ALL = "all"
    SUPPLIER = "supplier"  # only the supplier named in the token
    FACILITIES = "facilities"  # only the facilities named in the token or client registration


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RolePolicy(_Section):
    rows: RowAccess
    scopes: frozenset[str]

    @model_validator(mode="after")
    def _known_scopes(self) -> "RolePolicy":
        unknown = sorted(self.scopes - set(ALL_SCOPES))
        if unknown:
            raise ValueError(f"unknown scopes {unknown}; known: {list(ALL_SCOPES)}")
        return self


class Classified(_Section):
    """Shown with all but the last 4 characters masked unless the caller may see it whole."""

    scope: str | None = Field(default=None, description="callers with it see the value whole")
    masked_for_roles: frozenset[Role] = frozenset()
    audit_reads: bool = False
    at_rest: Literal["plain", "encrypted"] = Field(
        default="plain", description="encrypted: the stored column is sealed (AES-GCM)"
    )

    @property
    def encrypted(self) -> bool:
        return self.at_rest == "encrypted"

    def shown_whole_to(self, *, scopes: frozenset[str], roles: frozenset[Role]) -> bool:
        if roles & self.masked_for_roles:
            return False
        return self.scope is None or self.scope in scopes


Requirement = Literal["*"] | str


class AccessPolicy(_Section):
    roles: dict[Role, RolePolicy]
    types: dict[str, Requirement] = Field(description="GraphQL type name → scope to read it")
    fields: dict[str, Requirement] = Field(default_factory=dict, description="Type.field → scope")
    classified: dict[str, Classified] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_requirements(self) -> "AccessPolicy":
        for where, scope in [*self.types.items(), *self.fields.items()]:
            if scope != ANY_SIGNED_IN and scope not in ALL_SCOPES:
                raise ValueError(f"{where}: unknown scope {scope!r}")
        return self

    def requirement(self, type_name: str, field_name: str, returns: str) -> Requirement | None:
        """The scope a field needs: its own rule first, else its return type's; None: no rule."""
        return self.fields.get(f"{type_name}.{field_name}", self.types.get(returns))

    def scopes_of(self, roles: frozenset[Role]) -> frozenset[str]:
        granted: set[str] = set()
        for role in roles:
            if role in self.roles:
                granted |= self.roles[role].scopes
        return frozenset(granted)
