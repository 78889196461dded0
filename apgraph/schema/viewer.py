"""The caller as the server sees it: handy for clients, and for checking a token's effect."""

from typing import Self

import strawberry

from apgraph.domain.principal import Principal


@strawberry.type(name="Viewer", description="The caller as this server sees its token.")
class ViewerType:
    subject: str = strawberry.field(description="The user or client the token names.")
    roles: list[str] = strawberry.field(description="e.g. supplier, approver, finance_admin.")
    scopes: list[str] = strawberry.field(description="What the token may do, e.g. invoices:read.")
    supplier_id: strawberry.ID | None = strawberry.field(
        description="Set for supplier users: they see only this supplier's data."
    )
    facility_ids: list[strawberry.ID] | None = strawberry.field(
        description="The facilities the caller is bound to; null means every facility."
    )

    @classmethod
    def from_principal(cls, principal: Principal) -> Self:
        return cls(
            subject=principal.subject,
            roles=sorted(role.value for role in principal.roles),
            scopes=sorted(principal.scopes),
            supplier_id=strawberry.ID(principal.supplier_id) if principal.supplier_id else None,
            facility_ids=(
                [strawberry.ID(f) for f in sorted(principal.facility_ids)]
                if principal.facility_ids is not None
                else None
            ),
        )
