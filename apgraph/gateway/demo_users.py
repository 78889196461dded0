"""The seeded demo users, one per role, so a newcomer can try every role at once.

Their subjects match the demo data (the seed names `approver.fac-0001` as FAC-0001's
approver, `portal.sup-000001` as the submitter of SUP-000001's invoices).
"""

from datetime import datetime, timedelta

from apgraph.domain.principal import Role
from apgraph.gateway.tokens import TokenIssuer

DEFAULT_SUPPLIER = "SUP-000001"
DEFAULT_FACILITY = "FAC-0001"


class DemoUserError(ValueError):
    """The role needs something the command line did not give."""


def demo_claims(
    role: Role, *, supplier_id: str | None = None, facility_ids: list[str] | None = None
) -> tuple[str, dict[str, object]]:
    """(subject, claims) of the demo user with `role`."""
    match role:
        case Role.SUPPLIER:
            supplier = supplier_id or DEFAULT_SUPPLIER
            return f"portal.{supplier.lower()}", {"roles": [role.value], "supplier_id": supplier}
        case Role.APPROVER:
            facilities = facility_ids or [DEFAULT_FACILITY]
            subject = f"approver.{facilities[0].lower()}"
            return subject, {"roles": [role.value], "facility_ids": facilities}
        case Role.AP_CLERK:
            return "clerk.demo", {"roles": [role.value]}
        case Role.FINANCE_ADMIN:
            return "finance.admin", {"roles": [role.value]}
        case Role.AUDITOR:
            return "auditor.demo", {"roles": [role.value]}
        case Role.PARTNER:
            raise DemoUserError("partner tokens belong to a registered client: use --client ID")


def demo_token(
    issuer: TokenIssuer,
    *,
    role: Role,
    now: datetime,
    supplier_id: str | None = None,
    facility_ids: list[str] | None = None,
    lifetime: timedelta | None = None,
) -> str:
    subject, claims = demo_claims(role, supplier_id=supplier_id, facility_ids=facility_ids)
    return issuer.issue(subject=subject, now=now, claims=claims, lifetime=lifetime).access_token
