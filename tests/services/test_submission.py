"""submit_invoice on the real store and the in-process simulators, on both databases."""

import asyncio
import uuid
from dataclasses import replace
from decimal import Decimal

from sqlalchemy import select

from apgraph.domain.codes import MatchCode, ProblemCode, ValidationCode
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.principal import Principal, Role
from apgraph.services import approvals, submission
from apgraph.services.ports.reads import AuditFilter, InvoiceFilter
from apgraph.simulators.faults import Fault, FaultKind
from apgraph.store.tables import SupplierRow
from tests.services.workflow_support import CLOCK, ON_POSTGRESQL, person, reads, workflow
from tests.store.lock_waits import backend_pid, until_blocked_by
from tests.workflow import Order, erp_postings


def supplier_user(order: Order) -> Principal:
    return person(
        f"portal.{order.supplier.id.lower()}", Role.SUPPLIER, supplier_id=order.supplier.id
    )


async def submit(workflow_api, principal, invoice, key=None):
    return await submission.submit_invoice(
        submission.SubmitInvoice(invoice, key or f"key-{uuid.uuid4()}"),
        principal=principal,
        workflow=workflow(workflow_api.runtime),
        reads=reads(workflow_api.runtime, principal),
        clock=CLOCK,
    )


async def codes_of(workflow_api, invoice_id):
    admin = person("finance.admin", Role.FINANCE_ADMIN)
    found = await reads(workflow_api.runtime, admin).invoices.exceptions_of([invoice_id])
    return {reason.code for _, reason in found}


async def footprint(workflow_api, supplier_id):
    """How many invoices the supplier has, and how long the audit trail is."""
    store = reads(workflow_api.runtime, person("finance.admin", Role.FINANCE_ADMIN))
    return (
        await store.invoices.count(InvoiceFilter(supplier_id=supplier_id)),
        await store.audit.count(AuditFilter()),
    )


async def test_a_clean_invoice_against_a_fully_received_po_is_posted_once(workflow_api, orders):
    # given a PO received in full
    order = await orders.take("full")

    # when its supplier bills what was received
    outcome = await submit(workflow_api, supplier_user(order), order.clean_invoice())

    # then the invoice is posted, and the facility's ERP booked it once
    invoice = outcome.value
    assert outcome.ok
    assert invoice is not None
    assert invoice.status is InvoiceStatus.POSTED
    assert invoice.erp_document_ref
    assert erp_postings(workflow_api.runtime, invoice.id, invoice.facility_id) == 1


async def test_billing_more_than_was_received_is_a_qty_variance_exception(workflow_api, orders):
    # given a PO with receipts
    order = await orders.for_exception()

    # when the supplier bills beyond any tolerance of what was received
    outcome = await submit(workflow_api, supplier_user(order), order.over_received_invoice())

    # then the invoice waits for an approver with the reason, and nothing was posted
    invoice = outcome.value
    assert invoice is not None
    assert invoice.status is InvoiceStatus.EXCEPTION
    assert MatchCode.QTY_VARIANCE.value in await codes_of(workflow_api, invoice.id)
    assert erp_postings(workflow_api.runtime, invoice.id, invoice.facility_id) == 0


async def test_a_po_line_without_any_receipt_is_a_missing_receipt_exception(workflow_api, orders):
    order = await orders.take("none")

    outcome = await submit(workflow_api, supplier_user(order), order.unreceived_invoice())

    assert outcome.value is not None
    assert outcome.value.status is InvoiceStatus.EXCEPTION
    assert await codes_of(workflow_api, outcome.value.id) == {MatchCode.MISSING_RECEIPT.value}


async def test_an_invalid_invoice_is_rejected_with_every_reason_at_once(
    workflow_api, orders, network
):
    # given an invoice charged to another facility's cost center, whose tax and total are off
    order = orders.any_order()
    other_center = next(
        c for c in network.cost_centers if c.facility_id != order.order.facility_id and c.active
    )
    clean = order.clean_invoice()
    invalid = replace(
        clean, cost_center_id=other_center.id, tax=clean.tax + 5, total=clean.total + 7
    )

    # when it is submitted
    outcome = await submit(workflow_api, supplier_user(order), invalid)

    # then it is stored REJECTED with all three codes: a successful submission
    assert outcome.ok
    assert outcome.value is not None
    assert outcome.value.status is InvoiceStatus.REJECTED
    assert await codes_of(workflow_api, outcome.value.id) == {
        ValidationCode.COST_CENTER_FACILITY_MISMATCH.value,
        ValidationCode.TAX_MISMATCH.value,
        ValidationCode.TOTALS_MISMATCH.value,
    }


async def test_input_that_cannot_be_stored_is_refused_with_field_paths_and_leaves_no_trace(
    workflow_api, orders
):
    order = orders.any_order()
    clean = order.clean_invoice()
    bad_line = replace(clean.lines[0], quantity=Decimal(-1))
    before = await footprint(workflow_api, order.supplier.id)

    outcome = await submit(workflow_api, supplier_user(order), replace(clean, lines=(bad_line,)))

    assert [(p.code, p.path) for p in outcome.problems] == [
        (ProblemCode.INVALID_QUANTITY, ("input", "lines", "0", "quantity"))
    ]
    assert await footprint(workflow_api, order.supplier.id) == before


async def test_a_refused_submission_asks_no_external_system(workflow_api, orders):
    # given an invoice against a PO that names a cost center nobody has
    order = orders.any_order()
    invoice = replace(order.clean_invoice(), cost_center_id="CC-9999-9999")
    simulators = workflow_api.runtime.connectors.simulators
    asked_before = sum(simulators.materials.plan.calls.values()) + sum(
        simulators.sourcing.plan.calls.values()
    )

    # when it is submitted
    outcome = await submit(workflow_api, supplier_user(order), invoice)

    # then it is refused, and neither materials management nor sourcing was asked anything:
    # receipts and contract prices matter only to an invoice that is stored
    assert [p.code for p in outcome.problems] == [ProblemCode.UNKNOWN_REFERENCE]
    asked_after = sum(simulators.materials.plan.calls.values()) + sum(
        simulators.sourcing.plan.calls.values()
    )
    assert asked_after == asked_before


async def test_the_same_key_and_payload_twice_gives_the_first_invoice(workflow_api, orders):
    order = orders.any_order()
    user = supplier_user(order)
    invoice = replace(order.clean_invoice(), tax=Decimal("0.01"))  # rejected: no PO budget used
    twice = f"twice-{uuid.uuid4()}"
    first = await submit(workflow_api, user, invoice, key=twice)
    after_first = await footprint(workflow_api, order.supplier.id)

    again = await submit(workflow_api, user, invoice, key=twice)

    assert again.value == first.value
    assert await footprint(workflow_api, order.supplier.id) == after_first


async def test_the_same_key_with_another_payload_is_refused(workflow_api, orders):
    order = orders.any_order()
    user = supplier_user(order)
    invoice = replace(order.clean_invoice(), tax=Decimal("0.01"))
    reused = f"reused-{uuid.uuid4()}"
    await submit(workflow_api, user, invoice, key=reused)
    before = await footprint(workflow_api, order.supplier.id)

    other = replace(invoice, supplier_invoice_number=invoice.supplier_invoice_number + "-B")
    outcome = await submit(workflow_api, user, other, key=reused)

    assert [(p.code, p.path) for p in outcome.problems] == [
        (ProblemCode.IDEMPOTENCY_KEY_REUSED, ("idempotencyKey",))
    ]
    assert await footprint(workflow_api, order.supplier.id) == before


async def test_a_supplier_cannot_submit_for_another_supplier(workflow_api, orders, network):
    # given supplier A's user and supplier B's PO
    order = orders.any_order()
    other = next(s for s in network.suppliers if s.id != order.supplier.id)
    intruder = person(f"portal.{other.id.lower()}", Role.SUPPLIER, supplier_id=other.id)
    before = await footprint(workflow_api, order.supplier.id)

    # when A submits an invoice in B's name
    outcome = await submit(workflow_api, intruder, order.clean_invoice())

    # then it is refused and nothing is stored
    assert [(p.code, p.path) for p in outcome.problems] == [
        (ProblemCode.SUPPLIER_NOT_ALLOWED, ("input", "supplierId"))
    ]
    assert await footprint(workflow_api, order.supplier.id) == before


async def test_erp_down_fails_the_posting_and_a_retry_posts_it_once(workflow_api, orders):
    # given the ERPs down past every retry
    order = await orders.take("full")
    simulators = workflow_api.runtime.connectors.simulators
    for erp in (simulators.legacy_erp, simulators.cloud_erp):
        erp.plan.add(Fault(FaultKind.ERROR, times=None))
    try:
        failed = await submit(workflow_api, supplier_user(order), order.clean_invoice())
    finally:
        simulators.reset_faults()
    invoice = failed.value
    assert invoice is not None
    assert invoice.status is InvoiceStatus.POSTING_FAILED

    # when an operator retries once the ERPs are back, and then once more
    operator = person("finance.admin", Role.FINANCE_ADMIN)
    outcomes = [
        await approvals.retry_posting(
            approvals.RetryPosting(invoice.id),
            principal=operator,
            workflow=workflow(workflow_api.runtime),
            reads=reads(workflow_api.runtime, operator),
            clock=CLOCK,
        )
        for _ in range(2)
    ]

    # then the first posts it, the second is refused, and the ERP booked it once
    assert outcomes[0].value is not None
    assert outcomes[0].value.status is InvoiceStatus.POSTED
    assert [p.code for p in outcomes[1].problems] == [ProblemCode.ILLEGAL_TRANSITION]
    assert erp_postings(workflow_api.runtime, invoice.id, invoice.facility_id) == 1


async def test_the_same_submission_twice_at_the_same_moment_posts_once(workflow_api, orders):
    # given one invoice and one idempotency key
    order = await orders.take("full")
    user = supplier_user(order)
    invoice = order.clean_invoice()
    key = f"race-{uuid.uuid4()}"

    # when it is submitted twice at once
    first, second = await asyncio.gather(
        submit(workflow_api, user, invoice, key=key), submit(workflow_api, user, invoice, key=key)
    )

    # then both answers name one invoice (the later one may see its posting under way),
    # which the ERP booked once
    assert first.value is not None
    assert second.value is not None
    assert first.value.id == second.value.id
    assert {first.value.status, second.value.status} <= {
        InvoiceStatus.MATCHED,
        InvoiceStatus.POSTED,
    }
    assert InvoiceStatus.POSTED in {first.value.status, second.value.status}
    assert erp_postings(workflow_api.runtime, first.value.id, first.value.facility_id) == 1


@ON_POSTGRESQL  # SQLite has one writer at a time: every submission waits for any other
async def test_a_submission_waiting_for_its_suppliers_lock_holds_up_no_other_supplier(
    workflow_api, orders
):
    engine = workflow_api.runtime.engine
    # given POs of two suppliers, and a transaction holding the first supplier's row
    first = await orders.take("full")
    second = await orders.take("full", other_than=first.supplier.id)
    assert second.supplier.id != first.supplier.id
    async with engine.connect() as holder:
        await holder.execute(
            select(SupplierRow.id)
            .where(SupplierRow.id == first.supplier.id)
            .with_for_update(key_share=True)
        )

        # when the first supplier submits, and its check waits for that row
        waiting = asyncio.create_task(
            submit(workflow_api, supplier_user(first), first.clean_invoice())
        )
        await until_blocked_by(engine, await backend_pid(holder), deadline=120)

        # then the second supplier's invoice posts meanwhile: the waiting submission holds
        # no invoice number (the counter every submission needs), since it claims one last
        async with asyncio.timeout(120):  # a deadline for the failure only
            other = await submit(workflow_api, supplier_user(second), second.clean_invoice())
        assert other.value is not None
        assert other.value.status is InvoiceStatus.POSTED
        assert not waiting.done()
        await holder.rollback()

    # and the first posts once the row is free
    outcome = await waiting
    assert outcome.value is not None
    assert outcome.value.status is InvoiceStatus.POSTED
