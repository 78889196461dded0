"""What an auditor reads about an approval: the trail says what was approved, and a posted
invoice shows the approved reasons as approved, not as open ones."""

from apgraph.domain.principal import Role
from tests.resolvers.test_approve_invoice import AUDIT, approver_token
from tests.resolvers.test_invariants_under_concurrency import APPROVE, _large_exception, submit

FINANCE = "finance-ops/v1"  # where approvers decide
PORTAL = "supplier-portal/v1"  # where suppliers read their invoices

INVOICE = """
query($id: ID!) {
  invoice(id: $id) {
    status total { amount currency }
    exceptions { code } approvedExceptions { code }
  }
}
"""


async def approve_entries(workflow_api, subject: str, invoice_id: str) -> list[str]:
    data = await workflow_api.data(AUDIT, {"subject": subject, "action": "invoice.approve"})
    return [
        edge["node"]["detail"]
        for edge in data["auditLog"]["edges"]
        if invoice_id in edge["node"]["entityIds"] and edge["node"]["outcome"] == "SUCCEEDED"
    ]


async def test_each_approval_records_the_amount_the_codes_and_whether_it_completed_the_set(
    workflow_api, orders
):
    # given an exception above the two-approver amount
    order, invoice_id = await _large_exception(workflow_api, orders)
    before = (await workflow_api.data(INVOICE, {"id": invoice_id}))["invoice"]
    codes = " ".join(e["code"] for e in before["exceptions"])
    amount, currency = before["total"]["amount"], before["total"]["currency"]
    first, second = order.cost_center.approvers[:2]

    # when two approvers approve it, one after the other
    for approver in (first, second):
        token = approver_token(workflow_api, approver, order.order.facility_id)
        await workflow_api.data(APPROVE, {"id": invoice_id}, token=token, product=FINANCE)

    # then each approval's trail entry says what was approved and how far the set is
    assert await approve_entries(workflow_api, first, invoice_id) == [
        f"EXCEPTION → EXCEPTION; approved {amount} {currency}, codes {codes}; "
        "approval 1 of 2, set not complete"
    ]
    assert await approve_entries(workflow_api, second, invoice_id) == [
        f"EXCEPTION → EXCEPTION; approved {amount} {currency}, codes {codes}; "
        "approval 2 of 2, set complete"
    ]


async def test_a_posted_invoice_shows_its_approved_reasons_as_approved_not_open(
    workflow_api, orders
):
    # given an exception with its reasons open
    order = await orders.for_exception()
    held = await submit(workflow_api, order, order.over_received_invoice())
    invoice_id = held["id"]
    opened = (await workflow_api.data(INVOICE, {"id": invoice_id}))["invoice"]
    assert opened["exceptions"] != []
    assert opened["approvedExceptions"] == []

    # when its approver approves it and it posts
    token = approver_token(workflow_api, order.approver, order.order.facility_id)
    await workflow_api.data(APPROVE, {"id": invoice_id}, token=token, product=FINANCE)

    # then its reasons are listed as approved, and none as open
    posted = (await workflow_api.data(INVOICE, {"id": invoice_id}))["invoice"]
    assert posted["status"] == "POSTED"
    assert posted["exceptions"] == []
    assert posted["approvedExceptions"] == opened["exceptions"]


async def test_a_supplier_reads_the_approved_reasons_of_its_own_posted_invoice(
    workflow_api, orders
):
    order = await orders.for_exception()
    held = await submit(workflow_api, order, order.over_received_invoice())
    token = approver_token(workflow_api, order.approver, order.order.facility_id)
    await workflow_api.data(APPROVE, {"id": held["id"]}, token=token, product=FINANCE)

    supplier = workflow_api.token(Role.SUPPLIER, supplier_id=order.supplier.id)
    seen = (await workflow_api.data(INVOICE, {"id": held["id"]}, token=supplier, product=PORTAL))[
        "invoice"
    ]

    assert seen["exceptions"] == []
    assert seen["approvedExceptions"] != []
