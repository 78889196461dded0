"""The invoice workflow's mutations: arguments → command → one service call → payload.

Scopes are checked per field by the gateway (gateway.yaml `access.fields`); which rows the
caller may act on is the services' question. A malformed ID is a top-level BAD_USER_INPUT.
"""

from typing import Annotated, Any

import strawberry

from apgraph.domain import ids
from apgraph.domain.submission import SubmittedInvoice, SubmittedLine
from apgraph.schema.arguments import InvoiceIdArgument
from apgraph.schema.context import Info
from apgraph.schema.errors import parse_id, parse_optional_id
from apgraph.schema.invoice_mutations import (
    ApproveInvoicePayload,
    HoldInvoicePayload,
    ReassignExceptionPayload,
    RejectInvoicePayload,
    ReleaseInvoicePayload,
    RetryPostingPayload,
    SubmitInvoiceInput,
    SubmitInvoicePayload,
)
from apgraph.services import approvals, submission

Note = Annotated[
    str | None, strawberry.argument(description="A note for the history and the audit trail.")
]
Reason = Annotated[
    str,
    strawberry.argument(description="Why, in words the supplier and auditors can read; required."),
]


async def submit_invoice(
    info: Info,
    input: Annotated[SubmitInvoiceInput, strawberry.argument(description="The invoice as sent.")],
    idempotency_key: Annotated[
        str,
        strawberry.argument(
            description="A key the client makes up per invoice (e.g. a UUID): a retry with the "
            "same key and input returns the first answer and never stores a second invoice; the "
            "same key with other input is IDEMPOTENCY_KEY_REUSED."
        ),
    ],
) -> SubmitInvoicePayload:
    outcome = await submission.submit_invoice(
        submission.SubmitInvoice(invoice=_submitted(input), idempotency_key=idempotency_key),
        **_caller(info),
    )
    return SubmitInvoicePayload.from_outcome(outcome)


async def approve_invoice(
    info: Info, invoice_id: InvoiceIdArgument, note: Note = None
) -> ApproveInvoicePayload:
    outcome = await approvals.approve_invoice(
        approvals.ApproveInvoice(invoice_id=_invoice_id(invoice_id), note=note),
        **_caller(info),
    )
    return ApproveInvoicePayload.from_outcome(outcome)


async def reject_invoice(
    info: Info, invoice_id: InvoiceIdArgument, reason: Reason
) -> RejectInvoicePayload:
    outcome = await approvals.reject_invoice(
        approvals.RejectInvoice(invoice_id=_invoice_id(invoice_id), reason=reason),
        **_caller(info),
    )
    return RejectInvoicePayload.from_outcome(outcome)


async def hold_invoice(
    info: Info, invoice_id: InvoiceIdArgument, reason: Reason
) -> HoldInvoicePayload:
    outcome = await approvals.hold_invoice(
        approvals.HoldInvoice(invoice_id=_invoice_id(invoice_id), reason=reason),
        **_caller(info),
    )
    return HoldInvoicePayload.from_outcome(outcome)


async def release_invoice(
    info: Info, invoice_id: InvoiceIdArgument, note: Note = None
) -> ReleaseInvoicePayload:
    outcome = await approvals.release_invoice(
        approvals.ReleaseInvoice(invoice_id=_invoice_id(invoice_id), note=note),
        **_caller(info),
    )
    return ReleaseInvoicePayload.from_outcome(outcome)


async def reassign_exception(
    info: Info,
    invoice_id: InvoiceIdArgument,
    assignee: Annotated[
        str,
        strawberry.argument(description="The user name of an approver the routing allows."),
    ],
    reason: Note = None,
) -> ReassignExceptionPayload:
    outcome = await approvals.reassign_exception(
        approvals.ReassignException(
            invoice_id=_invoice_id(invoice_id), assignee=assignee, reason=reason
        ),
        **_caller(info),
    )
    return ReassignExceptionPayload.from_outcome(outcome)


async def retry_posting(info: Info, invoice_id: InvoiceIdArgument) -> RetryPostingPayload:
    outcome = await approvals.retry_posting(
        approvals.RetryPosting(invoice_id=_invoice_id(invoice_id)),
        **_caller(info),
    )
    return RetryPostingPayload.from_outcome(outcome)


def _caller(info: Info) -> dict[str, Any]:
    """What every workflow service takes from the request: who, with what, and when."""
    ctx = info.context
    return {
        "principal": ctx.principal,
        "workflow": ctx.workflow,
        "reads": ctx.store,
        "clock": ctx.clock,
    }


def _invoice_id(raw: strawberry.ID) -> ids.InvoiceId:
    return parse_id(ids.invoice, raw, argument="invoiceId")


def _submitted(given: SubmitInvoiceInput) -> SubmittedInvoice:
    """IDs parsed here (malformed: BAD_USER_INPUT); every business check is the service's."""
    return SubmittedInvoice(
        supplier_id=parse_id(ids.supplier, given.supplier_id, argument="input.supplierId"),
        supplier_invoice_number=given.supplier_invoice_number,
        facility_id=parse_id(ids.facility, given.facility_id, argument="input.facilityId"),
        cost_center_id=parse_id(
            ids.cost_center, given.cost_center_id, argument="input.costCenterId"
        ),
        purchase_order_id=parse_optional_id(
            ids.purchase_order, given.purchase_order_id, argument="input.purchaseOrderId"
        ),
        invoice_date=given.invoice_date,
        currency=given.currency,
        subtotal=given.subtotal,
        tax=given.tax,
        total=given.total,
        lines=tuple(
            SubmittedLine(
                po_line_no=line.po_line_no,
                description=line.description,
                quantity=line.quantity,
                unit_of_measure=line.unit_of_measure,
                unit_price=line.unit_price,
                amount=line.amount,
                item_id=line.item_id,
            )
            for line in given.lines
        ),
    )
