"""The approvers' decisions on the real store, on both databases."""

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from apgraph.domain.codes import ProblemCode
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.principal import Principal, Role
from apgraph.services import approvals, submission
from apgraph.simulators.faults import Fault, FaultKind
from tests.services.workflow_support import CLOCK, person, reads, workflow
from tests.workflow import Order, erp_postings

ADMIN = person("finance.admin", Role.FINANCE_ADMIN)


def approver(subject: str, facility_id: str) -> Principal:
    return person(subject, Role.APPROVER, facility_ids=[facility_id])


async def in_exception(
    workflow_api, orders, *, submitted_by=None, approvers=1
) -> tuple[Order, str]:
    """A fresh invoice in EXCEPTION (QTY_VARIANCE) and its PO."""
    order = await orders.for_exception(approvers=approvers)
    principal = submitted_by or person(
        f"portal.{order.supplier.id.lower()}", Role.SUPPLIER, supplier_id=order.supplier.id
    )
    outcome = await submission.submit_invoice(
        submission.SubmitInvoice(order.over_received_invoice(), f"key-{uuid.uuid4()}"),
        principal=principal,
        workflow=workflow(workflow_api.runtime),
        reads=reads(workflow_api.runtime, principal),
        clock=CLOCK,
    )
    assert outcome.value is not None
    assert outcome.value.status is InvoiceStatus.EXCEPTION
    return order, outcome.value.id


async def act(workflow_api, service, command, principal):
    return await service(
        command,
        principal=principal,
        workflow=workflow(workflow_api.runtime),
        reads=reads(workflow_api.runtime, principal),
        clock=CLOCK,
    )


async def decisions_on(workflow_api, invoice_id):
    return await reads(workflow_api.runtime, ADMIN).invoices.approvals_of([invoice_id])


async def status_of(workflow_api, invoice_id):
    found = await reads(workflow_api.runtime, ADMIN).invoices.get_many([invoice_id])
    return found[0].status


async def test_the_cost_center_approver_approves_and_the_invoice_is_posted_once(
    workflow_api, orders
):
    # given an exception at a facility, and its cost center's approver
    order, invoice_id = await in_exception(workflow_api, orders)
    dana = approver(order.approver, order.order.facility_id)

    # when the approver approves it
    outcome = await act(
        workflow_api, approvals.approve_invoice, approvals.ApproveInvoice(invoice_id), dana
    )

    # then it is posted, once
    assert outcome.value is not None
    assert outcome.value.status is InvoiceStatus.POSTED
    assert erp_postings(workflow_api.runtime, invoice_id, order.order.facility_id) == 1


async def test_the_submitter_cannot_approve_their_own_invoice(workflow_api, orders):
    # given an exception the finance admin submitted
    _, invoice_id = await in_exception(workflow_api, orders, submitted_by=ADMIN)

    # when the same admin approves it
    outcome = await act(
        workflow_api, approvals.approve_invoice, approvals.ApproveInvoice(invoice_id), ADMIN
    )

    # then it is refused, and nothing was recorded
    assert [(p.code, p.path) for p in outcome.problems] == [
        (ProblemCode.SUBMITTER_CANNOT_APPROVE, ("invoiceId",))
    ]
    assert await decisions_on(workflow_api, invoice_id) == []
    assert await status_of(workflow_api, invoice_id) is InvoiceStatus.EXCEPTION


async def test_an_approver_of_another_facility_gets_not_found(workflow_api, orders, network):
    order, invoice_id = await in_exception(workflow_api, orders)
    elsewhere = next(f.id for f in network.facilities if f.id != order.order.facility_id)
    stranger = approver(f"approver.{elsewhere.lower()}", elsewhere)

    outcome = await act(
        workflow_api, approvals.approve_invoice, approvals.ApproveInvoice(invoice_id), stranger
    )

    assert [p.code for p in outcome.problems] == [ProblemCode.INVOICE_NOT_FOUND]
    assert await decisions_on(workflow_api, invoice_id) == []


async def test_an_approver_the_route_does_not_name_is_not_allowed(workflow_api, orders):
    order, invoice_id = await in_exception(workflow_api, orders)
    outsider = approver("someone.else", order.order.facility_id)

    outcome = await act(
        workflow_api, approvals.approve_invoice, approvals.ApproveInvoice(invoice_id), outsider
    )

    assert [p.code for p in outcome.problems] == [ProblemCode.APPROVER_NOT_ALLOWED]


async def test_two_approvers_at_once_post_the_invoice_once(workflow_api, orders):
    # given an exception whose cost center names two approvers, one approval needed
    order, invoice_id = await in_exception(workflow_api, orders, approvers=2)
    first, second = (approver(s, order.order.facility_id) for s in order.cost_center.approvers[:2])

    # when both approve at the same moment
    outcomes = await asyncio.gather(
        act(workflow_api, approvals.approve_invoice, approvals.ApproveInvoice(invoice_id), first),
        act(workflow_api, approvals.approve_invoice, approvals.ApproveInvoice(invoice_id), second),
    )

    # then one approval counts, the other is refused, and the ERP booked it once
    assert sorted(o.ok for o in outcomes) == [False, True]
    refused = next(o for o in outcomes if not o.ok)
    # (already posted, or caught while the posting was under way)
    assert [p.code for p in refused.problems] in (
        [ProblemCode.ILLEGAL_TRANSITION],
        [ProblemCode.POSTING_IN_PROGRESS],
    )
    assert await status_of(workflow_api, invoice_id) is InvoiceStatus.POSTED
    assert erp_postings(workflow_api.runtime, invoice_id, order.order.facility_id) == 1


async def test_a_rejection_cannot_overtake_the_posting_of_an_approved_invoice(
    workflow_api, billed_orders
):
    # given an exception with two approvers, one approval needed, and an ERP that holds the
    # posting until told to answer
    order, invoice_id = await in_exception(workflow_api, billed_orders, approvers=2)
    first, second = (approver(s, order.order.facility_id) for s in order.cost_center.approvers[:2])
    simulators = workflow_api.runtime.connectors.simulators
    erps = (simulators.legacy_erp, simulators.cloud_erp)
    for erp in erps:
        erp.plan.add(Fault(FaultKind.HOLD, seconds=60.0, times=1))
    try:
        # when the first approves, and the second rejects while the ERP call is provably
        # in flight (held by the simulator)
        approving = asyncio.create_task(
            act(
                workflow_api, approvals.approve_invoice, approvals.ApproveInvoice(invoice_id), first
            )
        )
        await until(lambda: sum(erp.plan.held for erp in erps) == 1, approving)
        rejected = await act(
            workflow_api,
            approvals.reject_invoice,
            approvals.RejectInvoice(invoice_id, "wrong quantity"),
            second,
        )
        for erp in erps:
            erp.plan.release()
        approved = await approving
    finally:
        simulators.reset_faults()

    # then the rejection is refused while the ERP books it, and the invoice is posted once
    assert [(p.code, p.path) for p in rejected.problems] == [
        (ProblemCode.POSTING_IN_PROGRESS, ("invoiceId",))
    ]
    assert approved.value is not None
    assert approved.value.status is InvoiceStatus.POSTED
    assert await status_of(workflow_api, invoice_id) is InvoiceStatus.POSTED
    assert erp_postings(workflow_api.runtime, invoice_id, order.order.facility_id) == 1


async def test_hold_release_and_reject_walk_the_exception_through_its_states(workflow_api, orders):
    order, invoice_id = await in_exception(workflow_api, orders)
    dana = approver(order.approver, order.order.facility_id)

    blank = await act(
        workflow_api, approvals.hold_invoice, approvals.HoldInvoice(invoice_id, " "), dana
    )
    held = await act(
        workflow_api,
        approvals.hold_invoice,
        approvals.HoldInvoice(invoice_id, "credit note asked"),
        dana,
    )
    released = await act(
        workflow_api, approvals.release_invoice, approvals.ReleaseInvoice(invoice_id), dana
    )
    rejected = await act(
        workflow_api,
        approvals.reject_invoice,
        approvals.RejectInvoice(invoice_id, "billed twice"),
        dana,
    )

    assert [(p.code, p.path) for p in blank.problems] == [
        (ProblemCode.REASON_REQUIRED, ("reason",))
    ]
    assert [o.value.status for o in (held, released, rejected) if o.value] == [
        InvoiceStatus.ON_HOLD,
        InvoiceStatus.EXCEPTION,
        InvoiceStatus.REJECTED,
    ]
    assert [d.decision.value for d in await decisions_on(workflow_api, invoice_id)] == [
        "HELD",
        "RELEASED",
        "REJECTED",
    ]


async def until(condition: Callable[[], bool], task: asyncio.Task[Any]) -> None:
    """Waits for `condition`, failing at once if `task` ends first (it never would hold)."""
    while not condition():
        assert not task.done(), f"the call ended before the condition held: {task.result()}"
        await asyncio.sleep(0.005)
