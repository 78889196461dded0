"""What posting a clean submission asks the database, on both databases: only what the
decision turns on (issue 19: every round trip is CPU on the server and time under a lock)."""

import uuid

from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.principal import Role
from apgraph.services import submission
from tests.services.statements import statements_sent, touching
from tests.services.workflow_support import CLOCK, person, reads, workflow


async def test_posting_a_matched_invoice_reads_no_approvals(workflow_api, orders):
    # given a clean invoice of a fully received PO, which matches and goes to the ERP at once
    order = await orders.take("full")
    supplier = person(
        f"portal.{order.supplier.id.lower()}", Role.SUPPLIER, supplier_id=order.supplier.id
    )
    runtime = workflow_api.runtime

    # when it is submitted
    with statements_sent(runtime.engine) as sent:
        outcome = await submission.submit_invoice(
            submission.SubmitInvoice(order.clean_invoice(), f"key-{uuid.uuid4()}"),
            principal=supplier,
            workflow=workflow(runtime),
            reads=reads(runtime, supplier),
            clock=CLOCK,
        )

    # then it is posted without a look at approvals: a MATCHED invoice needs none
    assert outcome.value is not None
    assert outcome.value.status is InvoiceStatus.POSTED
    assert touching(sent, "invoice_approvals") == []
