"""Master-data checks partners run before they send an invoice."""

from dataclasses import dataclass
from typing import Generic, TypeVar

from apgraph.domain.facilities import CostCenter
from apgraph.domain.master_data import Reason, check_cost_center, check_purchase_order
from apgraph.domain.purchasing import PurchaseOrder
from apgraph.services.ports.reads import FacilityReader, PurchaseOrderReader

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Checked(Generic[T]):
    reasons: list[Reason]
    found: T | None

    @property
    def valid(self) -> bool:
        return not self.reasons


async def validate_purchase_order(
    *,
    purchase_order_id: str,
    supplier_id: str | None,
    facility_id: str | None,
    orders: PurchaseOrderReader,
) -> Checked[PurchaseOrder]:
    """A PO the caller may not see is reported as not found: no probing other suppliers' POs."""
    found = next(iter(await orders.get_many([purchase_order_id])), None)
    reasons = check_purchase_order(
        found,
        purchase_order_id=purchase_order_id,
        supplier_id=supplier_id,
        facility_id=facility_id,
    )
    return Checked(reasons=reasons, found=found)


async def validate_cost_center(
    *, facility_id: str, code: str, facilities: FacilityReader
) -> Checked[CostCenter]:
    facility_known = bool(await facilities.get_many([facility_id]))
    same_code = await facilities.cost_centers_with_code(code)
    reasons = check_cost_center(
        facility_id=facility_id, code=code, facility_known=facility_known, same_code=same_code
    )
    here = next((c for c in same_code if c.facility_id == facility_id), None)
    return Checked(reasons=reasons, found=here)
