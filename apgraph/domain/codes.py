"""Stable reason codes. They belong to the API contract: add new ones, never rename."""

from enum import Enum


class ValidationCode(Enum):
    """Why a purchase order, cost center or invoice does not pass validation (DESIGN §4)."""

    SUPPLIER_UNKNOWN = "SUPPLIER_UNKNOWN"
    """No supplier with that ID."""
    SUPPLIER_BLOCKED = "SUPPLIER_BLOCKED"
    """The supplier is blocked or still onboarding: it may not bill."""
    FACILITY_NOT_FOUND = "FACILITY_NOT_FOUND"
    """No facility with that ID."""
    PO_NOT_FOUND = "PO_NOT_FOUND"
    """No purchase order with that ID (the checks that need the PO are skipped)."""
    PO_CLOSED = "PO_CLOSED"
    """The PO is CLOSED or CANCELLED: it takes no more invoices."""
    PO_SUPPLIER_MISMATCH = "PO_SUPPLIER_MISMATCH"
    """The PO was placed with another supplier."""
    PO_FACILITY_MISMATCH = "PO_FACILITY_MISMATCH"
    """The PO belongs to another facility."""
    COST_CENTER_INVALID = "COST_CENTER_INVALID"
    """No such cost center, or it is inactive."""
    COST_CENTER_FACILITY_MISMATCH = "COST_CENTER_FACILITY_MISMATCH"
    """The cost center belongs to another facility."""
    TAX_MISMATCH = "TAX_MISMATCH"
    """Tax differs from subtotal × the supplier's rate (or is not 0.00 when exempt) by > 0.01."""
    TOTALS_MISMATCH = "TOTALS_MISMATCH"
    """A line is not quantity × unit price, lines do not add up to the subtotal, or subtotal
    plus tax is not the total."""
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    """The invoice currency is not the PO's."""
    DUPLICATE_INVOICE = "DUPLICATE_INVOICE"
    """The supplier already sent this number, or the same amount within the duplicate window."""


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


class MatchCode(Enum):
    """Why a validated invoice needs an approver: the three-way match plus contract price (§4)."""

    MISSING_RECEIPT = "MISSING_RECEIPT"
    """A billed PO line has no goods receipt at all, and its category needs one."""
    QTY_VARIANCE = "QTY_VARIANCE"
    """Billed in all (this and earlier invoices) exceeds received by more than the tolerance."""
    OVER_BILLED = "OVER_BILLED"
    """Billed in all on a PO line exceeds what was ordered; no tolerance."""
    PRICE_VARIANCE = "PRICE_VARIANCE"
    """The billed unit price exceeds the PO unit price by more than the tolerance."""
    CONTRACT_PRICE_VARIANCE = "CONTRACT_PRICE_VARIANCE"
    """The billed unit price exceeds the contract price of the day by more than the tolerance."""
    CONTRACT_PRICE_UNAVAILABLE = "CONTRACT_PRICE_UNAVAILABLE"
    """Sourcing was down: matched on the PO price only; blocks only where policy says `block`."""
    POSSIBLE_DUPLICATE = "POSSIBLE_DUPLICATE"
    """Same supplier, currency and total as an earlier invoice dated outside the duplicate
    window, with a number equal once normalized or a keystroke or two away: held for review."""
    INVOICE_PREDATES_PO = "INVOICE_PREDATES_PO"
    """Dated before its PO was ordered: a sign of a PO raised after the fact."""
    STALE_INVOICE = "STALE_INVOICE"
    """Dated longer before it reached apgraph than the policy allows (default 365 days)."""
    ZERO_TOTAL = "ZERO_TOTAL"
    """Totals 0.00: a zero-value document is held for review, not booked (policy knob)."""


class ProblemCode(Enum):
    """Why a command was refused: the user errors mutations return, each with a field path."""

    # workflow
    INVOICE_NOT_FOUND = "INVOICE_NOT_FOUND"
    """No such invoice, or not one the caller may act on (the two answer alike)."""
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    """The invoice's status does not allow this command (DESIGN §4)."""
    SUBMITTER_CANNOT_APPROVE = "SUBMITTER_CANNOT_APPROVE"
    """Segregation of duties: whoever submitted an invoice never approves it."""
    APPROVER_NOT_ALLOWED = "APPROVER_NOT_ALLOWED"
    """Not an approver the routing allows for this facility, cost center and amount (yet)."""
    ALREADY_APPROVED_BY_YOU = "ALREADY_APPROVED_BY_YOU"
    """This approver approved the invoice already; a second approval must be someone else's."""
    POSTING_IN_PROGRESS = "POSTING_IN_PROGRESS"
    """The approvals are complete and the invoice is being posted; no decision overtakes it."""
    APPROVAL_REQUIRED = "APPROVAL_REQUIRED"
    """An invoice in EXCEPTION is posted only after an approver approves it."""
    SECOND_APPROVER_REQUIRED = "SECOND_APPROVER_REQUIRED"
    """Above the policy amount a second, distinct approver must approve too."""
    REASON_REQUIRED = "REASON_REQUIRED"
    """Rejecting or holding an invoice needs a reason the supplier and auditors can read."""
    SUPPLIER_NOT_PAYABLE = "SUPPLIER_NOT_PAYABLE"
    """The supplier is on hold, blocked or still onboarding: no new payments are scheduled."""
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    """The idempotency key was used before with a different payload."""
    SUPPLIER_NOT_ALLOWED = "SUPPLIER_NOT_ALLOWED"
    """A supplier's user submits invoices of its own supplier only."""
    UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE"
    """The input names a supplier, facility, cost center or PO that does not exist, or one
    the caller may not see (the two answer alike); an invoice cannot be kept against it."""
    # the submitted invoice itself
    NO_LINES = "NO_LINES"
    """An invoice bills at least one line."""
    TOO_MANY_LINES = "TOO_MANY_LINES"
    """More lines than one invoice may carry."""
    FIELD_REQUIRED = "FIELD_REQUIRED"
    """A required text is empty or blank."""
    FIELD_TOO_LONG = "FIELD_TOO_LONG"
    """A text is longer than the field allows."""
    INVALID_QUANTITY = "INVALID_QUANTITY"
    """A quantity is zero, negative, not a finite number, or implausibly large."""
    INVALID_AMOUNT = "INVALID_AMOUNT"
    """A price or amount is negative, not a finite number, or implausibly large."""
    TOO_MANY_DECIMALS = "TOO_MANY_DECIMALS"
    """More decimal places than the currency (amounts) or the ledger (prices, quantities) keeps."""
    UNKNOWN_CURRENCY = "UNKNOWN_CURRENCY"
    """Not a currency the network bills in."""
    INVOICE_DATE_IN_FUTURE = "INVOICE_DATE_IN_FUTURE"
    """Dated after tomorrow: an invoice cannot bill ahead of time."""
    PO_LINE_REQUIRED = "PO_LINE_REQUIRED"
    """A line of an invoice against a PO must name the PO line it bills."""
    UNKNOWN_PO_LINE = "UNKNOWN_PO_LINE"
    """The line names a PO line the purchase order does not have (or there is no PO)."""
    UNIT_OF_MEASURE_MISMATCH = "UNIT_OF_MEASURE_MISMATCH"
    """The line bills in another unit of measure than its PO line orders in."""
