"""Checks a partner runs before it sends an invoice: is this PO billable, is this cost center real.

Pure functions of the facts the caller looked up; every failing reason is reported, once.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from apgraph.domain.codes import ValidationCode
from apgraph.domain.facilities import CostCenter
from apgraph.domain.purchasing import PurchaseOrder


@dataclass(frozen=True, slots=True)
class Reason:
    code: ValidationCode
    message: str


def check_purchase_order(
    order: PurchaseOrder | None,
    *,
    purchase_order_id: str,
    supplier_id: str | None,
    facility_id: str | None,
) -> list[Reason]:
    """`supplier_id` / `facility_id` left out are not checked; an unknown PO skips the rest."""
    if order is None:
        return [Reason(ValidationCode.PO_NOT_FOUND, f"no purchase order {purchase_order_id}")]
    reasons = []
    if not order.status.accepts_invoices:
        reasons.append(
            Reason(ValidationCode.PO_CLOSED, f"{order.id} is {order.status.value.lower()}")
        )
    if supplier_id is not None and order.supplier_id != supplier_id:
        reasons.append(
            Reason(
                ValidationCode.PO_SUPPLIER_MISMATCH,
                f"{order.id} was not issued to {supplier_id}",
            )
        )
    if facility_id is not None and order.facility_id != facility_id:
        reasons.append(
            Reason(
                ValidationCode.PO_FACILITY_MISMATCH,
                f"{order.id} belongs to another facility than {facility_id}",
            )
        )
    return reasons


def check_cost_center(
    *,
    facility_id: str,
    code: str,
    facility_known: bool,
    same_code: Sequence[CostCenter],
) -> list[Reason]:
    """`same_code`: every cost center with this GL code, at any facility."""
    if not facility_known:
        return [Reason(ValidationCode.FACILITY_NOT_FOUND, f"no facility {facility_id}")]
    here = next((c for c in same_code if c.facility_id == facility_id), None)
    if here is None and same_code:
        return [
            Reason(
                ValidationCode.COST_CENTER_FACILITY_MISMATCH,
                f"cost center {code} exists, but not at {facility_id}",
            )
        ]
    if here is None:
        return [Reason(ValidationCode.COST_CENTER_INVALID, f"no cost center {code}")]
    if not here.active:
        return [Reason(ValidationCode.COST_CENTER_INVALID, f"cost center {here.id} is inactive")]
    return []
