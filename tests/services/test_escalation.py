"""The escalation loop on the real store, on both databases, with an injected clock."""

import uuid
from datetime import datetime, timedelta

from apgraph.domain.escalation import waiting_since
from apgraph.domain.events import InvoiceEscalated
from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.principal import Role
from apgraph.services import submission
from apgraph.services.escalation import Escalator
from tests.services.workflow_support import CLOCK, person, reads, workflow

ADMIN = person("finance.admin", Role.FINANCE_ADMIN)
SECOND = timedelta(seconds=1)


class At:
    """A clock that stands still where the test puts it."""

    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


async def in_exception(workflow_api, orders) -> tuple[Invoice, datetime]:
    """A fresh MISSING_RECEIPT exception (one unit billed: a small total the cost center's
    approvers decide on), and since when it waits. A PO without receipts, as the POs with
    receipts are all spoken for by other tests of the session."""
    order = await orders.take("none")
    supplier = person(
        f"portal.{order.supplier.id.lower()}", Role.SUPPLIER, supplier_id=order.supplier.id
    )
    outcome = await submission.submit_invoice(
        submission.SubmitInvoice(order.unreceived_invoice(), f"key-{uuid.uuid4()}"),
        principal=supplier,
        workflow=workflow(workflow_api.runtime),
        reads=reads(workflow_api.runtime, supplier),
        clock=CLOCK,
    )
    invoice = outcome.value
    assert invoice is not None
    assert invoice.status is InvoiceStatus.EXCEPTION
    history = await reads(workflow_api.runtime, ADMIN).invoices.history_of([invoice.id])
    return invoice, waiting_since(invoice, history)


def escalator(workflow_api, clock: At) -> Escalator:
    runtime = workflow_api.runtime
    return Escalator(workflow=workflow(runtime), reads=reads(runtime, ADMIN), clock=clock)


async def escalations_of(workflow_api, invoice_id) -> list[tuple[str, ...]]:
    events = await reads(workflow_api.runtime, ADMIN).events.of_invoice(invoice_id)
    return [tuple(e.payload["approvers"]) for e in events if e.type == InvoiceEscalated.type]


async def test_an_exception_escalates_once_just_after_its_sla_and_not_before(workflow_api, orders):
    # given an exception, and the policy's SLA and escalation level
    invoice, since = await in_exception(workflow_api, orders)
    rules = workflow_api.runtime.config.approvals.rules()
    clock = At(since + rules.escalate_after - SECOND)

    # when the escalation runs a second before the SLA runs out
    before = await escalator(workflow_api, clock).run_once()

    # then the exception stays with its cost center's approvers
    assert invoice.id not in before.escalated
    assert await escalations_of(workflow_api, invoice.id) == []

    # when it runs two seconds later, and again a day after that
    clock.at += 2 * SECOND
    first = await escalator(workflow_api, clock).run_once()
    clock.at += timedelta(days=1)
    second = await escalator(workflow_api, clock).run_once()

    # then the first run added the escalation level, and the second added nothing
    assert first.escalated[invoice.id] == rules.escalation_approvers
    assert second.escalated == {}
    assert await escalations_of(workflow_api, invoice.id) == [rules.escalation_approvers]
