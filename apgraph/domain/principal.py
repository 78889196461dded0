"""Who is calling: the identity every request carries, from the gateway down to the store."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from apgraph.domain.ids import FacilityId, SupplierId


class Role(Enum):
    SUPPLIER = "supplier"
    AP_CLERK = "ap_clerk"
    APPROVER = "approver"
    FINANCE_ADMIN = "finance_admin"
    AUDITOR = "auditor"
    PARTNER = "partner"


@dataclass(frozen=True, slots=True)
class RowScope:
    """Which rows a caller may see. None means "not restricted on this axis".

    Repositories apply it in the WHERE clause, so pages, counts and cursors never reveal
    hidden rows.
    """

    supplier_id: SupplierId | None = None
    facility_ids: frozenset[FacilityId] | None = None

    @property
    def unrestricted(self) -> bool:
        return self.supplier_id is None and self.facility_ids is None

    def admits(self, *, supplier_id: str | None, facility_id: str | None) -> bool:
        """The same rule as the repositories' WHERE clause, for rows already in hand."""
        if self.supplier_id is not None and supplier_id != self.supplier_id:
            return False
        return self.facility_ids is None or facility_id in self.facility_ids


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    scopes: frozenset[str]
    supplier_id: SupplierId | None = None  # set for supplier users: they see only their own
    facility_ids: frozenset[FacilityId] | None = None  # None: every facility
    client_id: str | None = None
    display_name: str = field(default="", compare=False)
    # when the credentials behind this principal stop being valid (a token's `exp`); a
    # long-lived connection ends then, whatever it is doing
    expires_at: datetime | None = field(default=None, compare=False)

    @property
    def row_scope(self) -> RowScope:
        return RowScope(supplier_id=self.supplier_id, facility_ids=self.facility_ids)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


ALL_SCOPES = (
    "suppliers:read",
    "suppliers:bank:read",
    "invoices:read",
    "invoices:submit",
    "invoices:approve",
    "payments:read",
    "payments:manage",
    "master-data:read",
    "master-data:import",
    "audit:read",
    "webhooks:manage",
    "admin",
)
