"""Stable reason codes. They belong to the API contract: add new ones, never rename."""

from enum import Enum


class ValidationCode(Enum):
    """Why a purchase order, cost center or invoice does not pass validation (DESIGN §4)."""

    SUPPLIER_UNKNOWN = "SUPPLIER_UNKNOWN"
    SUPPLIER_BLOCKED = "SUPPLIER_BLOCKED"
    FACILITY_NOT_FOUND = "FACILITY_NOT_FOUND"
    PO_NOT_FOUND = "PO_NOT_FOUND"
    PO_CLOSED = "PO_CLOSED"
    PO_SUPPLIER_MISMATCH = "PO_SUPPLIER_MISMATCH"
    PO_FACILITY_MISMATCH = "PO_FACILITY_MISMATCH"
    COST_CENTER_INVALID = "COST_CENTER_INVALID"
    COST_CENTER_FACILITY_MISMATCH = "COST_CENTER_FACILITY_MISMATCH"
    TAX_MISMATCH = "TAX_MISMATCH"
    TOTALS_MISMATCH = "TOTALS_MISMATCH"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    DUPLICATE_INVOICE = "DUPLICATE_INVOICE"


class ConnectorCode(Enum):
    """Why a call to an external system failed, as the workflow acts on it (DESIGN §6).

    *_UNAVAILABLE: retrying later may help (timeouts, 5xx, 429, an open breaker).
    *_REJECTED: the system said no; retrying the same request will not help.
    """

    ERP_UNAVAILABLE = "ERP_UNAVAILABLE"
    ERP_REJECTED = "ERP_REJECTED"
    ERP_SUPPLIER_NOT_LINKED = "ERP_SUPPLIER_NOT_LINKED"  # no cross-reference to a vendor yet
    ERP_ROUTE_UNKNOWN = "ERP_ROUTE_UNKNOWN"  # gateway.yaml routes the facility nowhere
    MATERIALS_UNAVAILABLE = "MATERIALS_UNAVAILABLE"
    MATERIALS_REJECTED = "MATERIALS_REJECTED"
    SOURCING_UNAVAILABLE = "SOURCING_UNAVAILABLE"
    SOURCING_REJECTED = "SOURCING_REJECTED"
    ANALYTICS_UNAVAILABLE = "ANALYTICS_UNAVAILABLE"
    ANALYTICS_REJECTED = "ANALYTICS_REJECTED"
    CONNECTOR_MAPPING_ERROR = "CONNECTOR_MAPPING_ERROR"
