"""reassignException through the GraphQL API on both databases, and the queue that follows it."""

import uuid
from decimal import Decimal

from apgraph.domain.principal import Role
from tests.resolvers.test_approve_invoice import SUBMIT, approver_token
from tests.workflow import as_input, erp_postings

PORTAL = "supplier-portal/v1"  # where suppliers submit
FINANCE = "finance-ops/v1"  # where approvers work

REASSIGN = """
mutation Reassign($id: ID!, $to: String!, $reason: String) {
  reassignException(invoiceId: $id, assignee: $to, reason: $reason) {
    invoice { id status assignedTo } userErrors { code field }
  }
}
"""
QUEUE = """
query Queue($assignedTo: String!) {
  exceptionQueue(assignedTo: $assignedTo, first: 100) { edges { node { id } } }
}
"""
AUDIT = """
query Audit($subject: String!) {
  auditLog(filter: {subject: $subject, action: "invoice.reassign"}, first: 100) {
    edges { node { entityIds detail } }
  }
}
"""


async def two_approver_exception(workflow_api, billed_orders, *, token=None):
    """A fresh EXCEPTION (QTY_VARIANCE) at a cost center naming at least two approvers,
    submitted by its supplier unless `token`."""
    order = await billed_orders.for_exception(approvers=2)
    body = await workflow_api.data(
        SUBMIT,
        {"input": as_input(order.over_received_invoice()), "key": f"key-{uuid.uuid4()}"},
        token=token or workflow_api.token(Role.SUPPLIER, supplier_id=order.supplier.id),
        product=None if token else PORTAL,
    )
    invoice = body["submitInvoice"]["invoice"]
    assert invoice["status"] == "EXCEPTION", body
    first, second = order.cost_center.approvers[:2]
    return order, invoice["id"], first, second


async def assignee_of(workflow_api, invoice_id):
    data = await workflow_api.data(
        "query($id: ID!) { invoice(id: $id) { assignedTo } }", {"id": invoice_id}
    )
    return data["invoice"]["assignedTo"]


async def queue_of(workflow_api, approver, facility_id):
    token = approver_token(workflow_api, approver, facility_id)
    data = await workflow_api.data(QUEUE, {"assignedTo": approver}, token=token, product=FINANCE)
    return {edge["node"]["id"] for edge in data["exceptionQueue"]["edges"]}


async def test_an_approver_hands_an_exception_to_another_and_the_queue_follows(
    workflow_api, billed_orders
):
    # given an exception in the queues of both of its cost center's approvers
    order, invoice_id, first, second = await two_approver_exception(workflow_api, billed_orders)
    facility = order.order.facility_id
    assert invoice_id in await queue_of(workflow_api, first, facility)
    assert invoice_id in await queue_of(workflow_api, second, facility)
    assert await assignee_of(workflow_api, invoice_id) is None

    # when the first hands it to the second
    body = await workflow_api.data(
        REASSIGN,
        {"id": invoice_id, "to": second, "reason": "on leave"},
        token=approver_token(workflow_api, first, facility),
        product=FINANCE,
    )

    # then it is still an exception, only in the second's queue, and the move is audited
    assert body["reassignException"] == {
        "invoice": {"id": invoice_id, "status": "EXCEPTION", "assignedTo": second},
        "userErrors": [],
    }
    assert invoice_id not in await queue_of(workflow_api, first, facility)
    assert invoice_id in await queue_of(workflow_api, second, facility)
    audited = await workflow_api.data(AUDIT, {"subject": first})
    assert {
        "entityIds": [invoice_id, order.supplier.id, facility],
        "detail": f"assigned to {second}",
    } in [edge["node"] for edge in audited["auditLog"]["edges"]]

    # and handed back, the latest assignment wins
    await workflow_api.data(
        REASSIGN,
        {"id": invoice_id, "to": first},
        token=approver_token(workflow_api, second, facility),
        product=FINANCE,
    )
    assert invoice_id in await queue_of(workflow_api, first, facility)
    assert invoice_id not in await queue_of(workflow_api, second, facility)
    assert await assignee_of(workflow_api, invoice_id) == first


async def test_a_finance_admin_dispatches_without_being_on_the_route(workflow_api, billed_orders):
    order, invoice_id, first, second = await two_approver_exception(workflow_api, billed_orders)

    body = await workflow_api.data(
        REASSIGN, {"id": invoice_id, "to": second}, token=workflow_api.admin
    )

    assert body["reassignException"]["userErrors"] == []
    assert invoice_id in await queue_of(workflow_api, second, order.order.facility_id)
    assert invoice_id not in await queue_of(workflow_api, first, order.order.facility_id)


async def test_an_assignee_the_route_does_not_allow_is_refused(workflow_api, billed_orders):
    order, invoice_id, first, _ = await two_approver_exception(workflow_api, billed_orders)
    token = approver_token(workflow_api, first, order.order.facility_id)

    # an unknown user, and the escalation level before the SLA has run out
    unknown = await workflow_api.data(
        REASSIGN, {"id": invoice_id, "to": "nobody"}, token=token, product=FINANCE
    )
    early = await workflow_api.data(
        REASSIGN, {"id": invoice_id, "to": "finance.controller"}, token=token, product=FINANCE
    )

    refused = {
        "invoice": None,
        "userErrors": [{"code": "APPROVER_NOT_ALLOWED", "field": ["assignee"]}],
    }
    assert unknown["reassignException"] == refused
    assert early["reassignException"] == refused
    assert invoice_id in await queue_of(workflow_api, first, order.order.facility_id)


async def test_an_approver_not_on_the_route_may_not_reassign(workflow_api, billed_orders):
    # the escalation level, with the facility in its token, is not on the route before the SLA
    order, invoice_id, _, second = await two_approver_exception(workflow_api, billed_orders)
    facility = order.order.facility_id
    outsider = "finance.controller"

    body = await workflow_api.data(
        REASSIGN,
        {"id": invoice_id, "to": second},
        token=approver_token(workflow_api, outsider, facility),
        product=FINANCE,
    )

    assert body["reassignException"] == {
        "invoice": None,
        "userErrors": [{"code": "APPROVER_NOT_ALLOWED", "field": ["invoiceId"]}],
    }


async def test_the_submitter_may_not_pick_their_own_approver(workflow_api, billed_orders):
    _, invoice_id, _, second = await two_approver_exception(
        workflow_api, billed_orders, token=workflow_api.admin
    )

    body = await workflow_api.data(
        REASSIGN, {"id": invoice_id, "to": second}, token=workflow_api.admin
    )

    assert body["reassignException"] == {
        "invoice": None,
        "userErrors": [{"code": "SUBMITTER_CANNOT_APPROVE", "field": ["invoiceId"]}],
    }


async def test_another_facilitys_exception_is_not_found(workflow_api, billed_orders, network):
    order, invoice_id, _, second = await two_approver_exception(workflow_api, billed_orders)
    elsewhere = next(f.id for f in network.facilities if f.id != order.order.facility_id)
    token = workflow_api.token(Role.APPROVER, facility_ids=[elsewhere])

    theirs = await workflow_api.data(
        REASSIGN, {"id": invoice_id, "to": second}, token=token, product=FINANCE
    )
    nobodys = await workflow_api.data(
        REASSIGN, {"id": "INV-99999999", "to": second}, token=token, product=FINANCE
    )

    assert theirs["reassignException"] == {
        "invoice": None,
        "userErrors": [{"code": "INVOICE_NOT_FOUND", "field": ["invoiceId"]}],
    }
    assert nobodys == theirs


async def test_a_supplier_may_not_reassign_at_all(workflow_api, billed_orders):
    order, invoice_id, _, second = await two_approver_exception(workflow_api, billed_orders)

    supplier = workflow_api.token(Role.SUPPLIER, supplier_id=order.supplier.id)

    # not in its portal's view, and finance-ops does not admit suppliers
    portal = await workflow_api.graphql(
        REASSIGN, {"id": invoice_id, "to": second}, token=supplier, product=PORTAL
    )
    finance = await workflow_api.graphql(
        REASSIGN, {"id": invoice_id, "to": second}, token=supplier, product=FINANCE
    )

    assert portal["data"] is None
    assert [e["extensions"]["code"] for e in portal["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert [e["extensions"]["code"] for e in finance["errors"]] == ["PRODUCT_NOT_ADMITTED"]
    assert await assignee_of(workflow_api, invoice_id) is None


APPROVE = """
mutation Approve($id: ID!) {
  approveInvoice(invoiceId: $id) {
    invoice { id status approvalStatus } userErrors { code field }
  }
}
"""


async def test_above_the_policy_amount_two_distinct_approvers_are_needed(
    workflow_api, billed_orders
):
    # given an exception of about 30,000 (gateway.yaml: two approvers above 25,000)
    order, submitted = await billed_orders.for_large_exception(Decimal("30000"))
    assert Decimal("25000") < submitted.total < Decimal("100000")
    body = await workflow_api.data(
        SUBMIT,
        {"input": as_input(submitted), "key": f"key-{uuid.uuid4()}"},
        token=workflow_api.token(Role.SUPPLIER, supplier_id=order.supplier.id),
        product=PORTAL,
    )
    invoice_id = body["submitInvoice"]["invoice"]["id"]
    assert body["submitInvoice"]["invoice"]["status"] == "EXCEPTION", body
    first, second = order.cost_center.approvers[:2]
    facility = order.order.facility_id

    # when the first approves, then again, then the second
    once = await workflow_api.data(
        APPROVE,
        {"id": invoice_id},
        token=approver_token(workflow_api, first, facility),
        product=FINANCE,
    )
    twice = await workflow_api.data(
        APPROVE,
        {"id": invoice_id},
        token=approver_token(workflow_api, first, facility),
        product=FINANCE,
    )
    assert erp_postings(workflow_api.runtime, invoice_id, facility) == 0
    done = await workflow_api.data(
        APPROVE,
        {"id": invoice_id},
        token=approver_token(workflow_api, second, facility),
        product=FINANCE,
    )

    # then one approval is not enough, the same approver does not count twice, and the
    # second distinct approval posts it, once
    assert once["approveInvoice"]["invoice"]["status"] == "EXCEPTION"
    assert once["approveInvoice"]["userErrors"] == []
    assert twice["approveInvoice"] == {
        "invoice": None,
        "userErrors": [{"code": "ALREADY_APPROVED_BY_YOU", "field": ["invoiceId"]}],
    }
    assert done["approveInvoice"]["invoice"]["status"] == "POSTED"
    assert erp_postings(workflow_api.runtime, invoice_id, facility) == 1
