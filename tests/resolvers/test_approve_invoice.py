"""approveInvoice and the other approver mutations through the GraphQL API, on both databases."""

import uuid
from datetime import UTC, datetime

from apgraph.domain.principal import Role
from tests.workflow import as_input, erp_postings

SUBMIT = """
mutation($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) { invoice { id status } userErrors { code } }
}
"""
APPROVE = """
mutation Approve($id: ID!) {
  approveInvoice(invoiceId: $id) { invoice { id status } userErrors { code field } }
}
"""
HOLD = """
mutation Hold($id: ID!, $reason: String!) {
  holdInvoice(invoiceId: $id, reason: $reason) { invoice { status } userErrors { code field } }
}
"""
RELEASE = """
mutation Release($id: ID!) {
  releaseInvoice(invoiceId: $id) { invoice { status } userErrors { code field } }
}
"""
REJECT = """
mutation Reject($id: ID!, $reason: String!) {
  rejectInvoice(invoiceId: $id, reason: $reason) { invoice { status } userErrors { code field } }
}
"""
PORTAL = "supplier-portal/v1"
FINANCE = "finance-ops/v1"  # approvers' product
STATUS = "query($id: ID!) { invoice(id: $id) { status approvals { decision } } }"


async def exception_at(workflow_api, orders, *, token=None):
    """A fresh invoice in EXCEPTION (QTY_VARIANCE), submitted by its supplier through the
    portal, unless `token` (an operator's, on /graphql)."""
    order = await orders.for_exception()
    body = await workflow_api.data(
        SUBMIT,
        {"input": as_input(order.over_received_invoice()), "key": f"key-{uuid.uuid4()}"},
        token=token or workflow_api.token(Role.SUPPLIER, supplier_id=order.supplier.id),
        product=None if token else PORTAL,
    )
    invoice = body["submitInvoice"]["invoice"]
    assert invoice["status"] == "EXCEPTION"
    return order, invoice["id"]


AUDIT = """
query Audit($subject: String!, $action: String!) {
  auditLog(filter: {subject: $subject, action: $action}, first: 100) {
    edges { node { entityIds outcome detail } }
  }
}
"""


async def audited(workflow_api, subject, action):
    data = await workflow_api.data(AUDIT, {"subject": subject, "action": action})
    return [edge["node"] for edge in data["auditLog"]["edges"]]


def approver_token(workflow_api, subject, facility_id):
    return workflow_api.issuer.issue(
        subject=subject,
        now=datetime.now(UTC),
        claims={"roles": [Role.APPROVER.value], "facility_ids": [facility_id]},
    ).access_token


async def test_the_facility_approver_approves_and_the_invoice_is_posted_once(workflow_api, orders):
    # given an exception, and the approver its cost center names
    order, invoice_id = await exception_at(workflow_api, orders)
    token = approver_token(workflow_api, order.approver, order.order.facility_id)

    # when the approver approves it
    body = await workflow_api.graphql(APPROVE, {"id": invoice_id}, token=token, product=FINANCE)

    # then it is posted, and the ERP booked it once
    assert body["data"]["approveInvoice"] == {
        "invoice": {"id": invoice_id, "status": "POSTED"},
        "userErrors": [],
    }
    assert erp_postings(workflow_api.runtime, invoice_id, order.order.facility_id) == 1


async def test_the_submitter_of_an_invoice_cannot_approve_it(workflow_api, orders):
    # given an exception the finance admin submitted
    order, invoice_id = await exception_at(workflow_api, orders, token=workflow_api.admin)

    # when the admin approves it
    body = await workflow_api.graphql(APPROVE, {"id": invoice_id}, token=workflow_api.admin)

    # then the admin is refused with a stable code, and the invoice has not moved
    assert body["data"]["approveInvoice"] == {
        "invoice": None,
        "userErrors": [{"code": "SUBMITTER_CANNOT_APPROVE", "field": ["invoiceId"]}],
    }
    invoice = (await workflow_api.data(STATUS, {"id": invoice_id}))["invoice"]
    assert invoice == {"status": "EXCEPTION", "approvals": []}
    # and the attempt is on the audit trail
    assert {
        "entityIds": [invoice_id, order.supplier.id, order.order.facility_id],
        "outcome": "DENIED",
        "detail": "SUBMITTER_CANNOT_APPROVE",
    } in await audited(workflow_api, "finance.admin", "invoice.approve")


async def test_an_approver_of_another_facility_gets_not_found(workflow_api, orders, network):
    order, invoice_id = await exception_at(workflow_api, orders)
    elsewhere = next(f.id for f in network.facilities if f.id != order.order.facility_id)
    token = workflow_api.token(Role.APPROVER, facility_ids=[elsewhere])

    theirs = await workflow_api.graphql(APPROVE, {"id": invoice_id}, token=token, product=FINANCE)
    nobodys = await workflow_api.graphql(
        APPROVE, {"id": "INV-99999999"}, token=token, product=FINANCE
    )

    assert theirs["data"]["approveInvoice"] == {
        "invoice": None,
        "userErrors": [{"code": "INVOICE_NOT_FOUND", "field": ["invoiceId"]}],
    }
    assert nobodys["data"] == theirs["data"]
    assert (await workflow_api.data(STATUS, {"id": invoice_id}))["invoice"]["approvals"] == []
    # both probes are audited alike, by the ID asked for and nothing the prober could not see
    trail = await audited(workflow_api, f"approver.{elsewhere.lower()}", "invoice.approve")
    for probed in (invoice_id, "INV-99999999"):
        assert {
            "entityIds": [probed],
            "outcome": "DENIED",
            "detail": "INVOICE_NOT_FOUND",
        } in trail


async def test_a_supplier_may_not_approve_at_all(workflow_api, orders):
    order, invoice_id = await exception_at(workflow_api, orders)

    supplier = workflow_api.token(Role.SUPPLIER, supplier_id=order.supplier.id)

    # not on its portal (the mutation is not in its view), nor on finance-ops (the product
    # does not admit suppliers), nor on /graphql (the operators' door)
    portal = await workflow_api.graphql(APPROVE, {"id": invoice_id}, token=supplier, product=PORTAL)
    finance = await workflow_api.graphql(
        APPROVE, {"id": invoice_id}, token=supplier, product=FINANCE
    )
    internal = await workflow_api.graphql(APPROVE, {"id": invoice_id}, token=supplier)

    assert [e["extensions"]["code"] for e in portal["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert [e["extensions"]["code"] for e in finance["errors"]] == ["PRODUCT_NOT_ADMITTED"]
    assert internal["data"] is None
    assert [e["extensions"]["code"] for e in internal["errors"]] == ["OPERATORS_ONLY"]
    assert (await workflow_api.data(STATUS, {"id": invoice_id}))["invoice"]["approvals"] == []


async def test_a_malformed_invoice_id_is_bad_user_input(workflow_api):
    body = await workflow_api.graphql(APPROVE, {"id": "not-an-invoice"})

    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_hold_release_and_reject_move_the_exception(workflow_api, orders):
    order, invoice_id = await exception_at(workflow_api, orders)
    token = approver_token(workflow_api, order.approver, order.order.facility_id)

    blank = await workflow_api.data(
        HOLD, {"id": invoice_id, "reason": "  "}, token=token, product=FINANCE
    )
    held = await workflow_api.data(
        HOLD, {"id": invoice_id, "reason": "asked for a credit"}, token=token, product=FINANCE
    )
    released = await workflow_api.data(RELEASE, {"id": invoice_id}, token=token, product=FINANCE)
    rejected = await workflow_api.data(
        REJECT, {"id": invoice_id, "reason": "billed twice"}, token=token, product=FINANCE
    )

    assert blank["holdInvoice"] == {
        "invoice": None,
        "userErrors": [{"code": "REASON_REQUIRED", "field": ["reason"]}],
    }
    assert [
        held["holdInvoice"]["invoice"]["status"],
        released["releaseInvoice"]["invoice"]["status"],
        rejected["rejectInvoice"]["invoice"]["status"],
    ] == ["ON_HOLD", "EXCEPTION", "REJECTED"]
