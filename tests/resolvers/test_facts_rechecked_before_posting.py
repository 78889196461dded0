"""The approval that would post an invoice checks its facts again (services/rechecks.py): a
supplier blocked, or a PO closed, while the invoice waited in EXCEPTION stops the posting."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import update

from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.principal import Role
from apgraph.store.tables import PurchaseOrderRow, SupplierRow
from tests.resolvers.test_approve_invoice import AUDIT, approver_token
from tests.services.test_rematch import rematcher, submitted_while_materials_down
from tests.workflow import Order, as_input, erp_postings

FINANCE = "finance-ops/v1"  # where approvers and clerks work
SUBMIT = """
mutation($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) { invoice { id status } userErrors { code } }
}
"""
APPROVE = """
mutation($id: ID!) {
  approveInvoice(invoiceId: $id) {
    invoice { id status exceptions { code } } userErrors { code }
  }
}
"""
INVOICE = "query($id: ID!) { invoice(id: $id) { status erpDocumentRef exceptions { code } } }"


async def in_exception(workflow_api, orders) -> tuple[Order, str]:
    order = await orders.for_exception()
    body = await workflow_api.data(
        SUBMIT,
        {"input": as_input(order.over_received_invoice()), "key": f"key-{uuid.uuid4()}"},
        token=workflow_api.token(Role.SUPPLIER, supplier_id=order.supplier.id),
        product="supplier-portal/v1",
    )
    invoice = body["submitInvoice"]["invoice"]
    assert invoice["status"] == "EXCEPTION"
    return order, invoice["id"]


@asynccontextmanager
async def blocked(workflow_api, supplier_id: str) -> AsyncIterator[None]:
    """The supplier BLOCKED by master-data management, for the test's while: the database is
    the session's, so its status is put back afterwards."""
    rows = SupplierRow.__table__.c
    async with workflow_api.runtime.engine.begin() as connection:
        before = (
            await connection.execute(SupplierRow.__table__.select().where(rows.id == supplier_id))
        ).one()
        await connection.execute(
            update(SupplierRow).where(rows.id == supplier_id).values(status="BLOCKED")
        )
    try:
        yield
    finally:
        async with workflow_api.runtime.engine.begin() as connection:
            await connection.execute(
                update(SupplierRow).where(rows.id == supplier_id).values(status=before.status)
            )


async def close(workflow_api, order_id: str) -> None:
    rows = PurchaseOrderRow.__table__.c
    async with workflow_api.runtime.engine.begin() as connection:
        await connection.execute(
            update(PurchaseOrderRow).where(rows.id == order_id).values(status="CLOSED")
        )


async def test_an_exception_of_a_supplier_blocked_since_is_rejected_not_posted(
    workflow_api, orders
):
    # given an invoice in EXCEPTION, and its supplier blocked afterwards
    order, invoice_id = await in_exception(workflow_api, orders)
    token = approver_token(workflow_api, order.approver, order.order.facility_id)
    async with blocked(workflow_api, order.supplier.id):
        # when the approver approves it
        body = await workflow_api.data(APPROVE, {"id": invoice_id}, token=token, product=FINANCE)

    # then it is REJECTED with the validation code, as a new invoice would be
    assert body["approveInvoice"] == {
        "invoice": {
            "id": invoice_id,
            "status": "REJECTED",
            "exceptions": [{"code": "SUPPLIER_BLOCKED"}],
        },
        "userErrors": [],
    }
    # and nothing was booked
    stored = (await workflow_api.data(INVOICE, {"id": invoice_id}))["invoice"]
    assert stored["erpDocumentRef"] is None
    assert erp_postings(workflow_api.runtime, invoice_id, order.order.facility_id) == 0
    # and the trail says why the posting stopped
    assert await recheck_entries(workflow_api, order.approver, invoice_id) == [
        {"outcome": "DENIED", "detail": "EXCEPTION → REJECTED SUPPLIER_BLOCKED"}
    ]


async def test_an_exception_on_a_po_closed_since_is_rejected_not_posted(workflow_api, orders):
    # given an invoice in EXCEPTION, and its PO closed afterwards
    order, invoice_id = await in_exception(workflow_api, orders)
    await close(workflow_api, order.order.id)
    token = approver_token(workflow_api, order.approver, order.order.facility_id)

    # when the approver approves it
    body = await workflow_api.data(APPROVE, {"id": invoice_id}, token=token, product=FINANCE)

    # then it is REJECTED with PO_CLOSED, and nothing was booked
    invoice = body["approveInvoice"]["invoice"]
    assert (invoice["status"], invoice["exceptions"]) == ("REJECTED", [{"code": "PO_CLOSED"}])
    assert erp_postings(workflow_api.runtime, invoice_id, order.order.facility_id) == 0
    assert await recheck_entries(workflow_api, order.approver, invoice_id) == [
        {"outcome": "DENIED", "detail": "EXCEPTION → REJECTED PO_CLOSED"}
    ]


async def recheck_entries(workflow_api, subject: str, invoice_id: str) -> list[dict[str, str]]:
    data = await workflow_api.data(AUDIT, {"subject": subject, "action": "invoice.recheck"})
    return [
        {"outcome": edge["node"]["outcome"], "detail": edge["node"]["detail"]}
        for edge in data["auditLog"]["edges"]
        if invoice_id in edge["node"]["entityIds"]
    ]


async def test_an_invoice_waiting_for_materials_is_rejected_when_its_supplier_was_blocked(
    workflow_api, orders
):
    # given a clean invoice left VALIDATED while materials management was down
    order = await orders.take("full")
    waiting = await submitted_while_materials_down(workflow_api, order, order.clean_invoice())

    # when its supplier is blocked meanwhile, and the re-match loop picks it up
    async with blocked(workflow_api, order.supplier.id):
        report = await rematcher(workflow_api).run_once()

    # then it is rejected with the validation code instead of posted, and nothing is booked
    assert report.matched[waiting.id] is InvoiceStatus.REJECTED
    stored = (await workflow_api.data(INVOICE, {"id": waiting.id}))["invoice"]
    assert (stored["status"], stored["exceptions"]) == ("REJECTED", [{"code": "SUPPLIER_BLOCKED"}])
    assert erp_postings(workflow_api.runtime, waiting.id, order.order.facility_id) == 0
    assert await recheck_entries(workflow_api, "apgraph.rematch", waiting.id) == [
        {"outcome": "DENIED", "detail": "MATCHED → REJECTED SUPPLIER_BLOCKED"}
    ]
