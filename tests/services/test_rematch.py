"""The re-match loop on the real store and the in-process simulators, on both databases."""

import uuid
from dataclasses import dataclass

from apgraph.domain.codes import MatchCode
from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.principal import Role
from apgraph.domain.systems import ExternalSystem
from apgraph.services import submission
from apgraph.services.rematch import Rematcher
from apgraph.simulators.faults import Fault, FaultKind
from tests.services.workflow_support import CLOCK, person, reads, workflow
from tests.workflow import Order, erp_postings

ADMIN = person("finance.admin", Role.FINANCE_ADMIN)


@dataclass
class MaterialsDown:
    """Materials management fails every call until the block ends."""

    api: object

    def __enter__(self) -> None:
        self.api.runtime.connectors.simulators.materials.plan.add(  # type: ignore[attr-defined]
            Fault(FaultKind.ERROR, times=None)
        )

    def __exit__(self, *_: object) -> None:
        connectors = self.api.runtime.connectors  # type: ignore[attr-defined]
        connectors.simulators.reset_faults()
        # The failed calls opened the materials breaker, which lets a trial call through only
        # after its 30 s cooldown (wall clock); this stands in for that trial having succeeded.
        for probe in connectors.probes:
            if probe.system is ExternalSystem.MATERIALS:
                probe.endpoint.breaker.succeeded()


def rematcher(workflow_api) -> Rematcher:
    runtime = workflow_api.runtime
    return Rematcher(workflow=workflow(runtime), reads=reads(runtime, ADMIN), clock=CLOCK)


async def submitted_while_materials_down(workflow_api, order: Order, invoice) -> Invoice:
    supplier = person(
        f"portal.{order.supplier.id.lower()}", Role.SUPPLIER, supplier_id=order.supplier.id
    )
    with MaterialsDown(workflow_api):
        outcome = await submission.submit_invoice(
            submission.SubmitInvoice(invoice, f"key-{uuid.uuid4()}"),
            principal=supplier,
            workflow=workflow(workflow_api.runtime),
            reads=reads(workflow_api.runtime, supplier),
            clock=CLOCK,
        )
    assert outcome.value is not None
    assert outcome.value.status is InvoiceStatus.VALIDATED
    assert await codes_of(workflow_api, outcome.value.id) == set()
    return outcome.value


async def codes_of(workflow_api, invoice_id) -> set[str]:
    found = await reads(workflow_api.runtime, ADMIN).invoices.exceptions_of([invoice_id])
    return {reason.code for _, reason in found}


async def now_of(workflow_api, invoice_id) -> Invoice:
    (found,) = await reads(workflow_api.runtime, ADMIN).invoices.get_many([invoice_id])
    return found


async def test_a_waiting_invoice_is_posted_once_by_the_first_rematch_after_materials_is_back(
    workflow_api, orders
):
    # given an invoice that waits because materials management was down at submission
    order = await orders.take("full")
    waiting = await submitted_while_materials_down(workflow_api, order, order.clean_invoice())

    # when the re-match runs while it is still down
    with MaterialsDown(workflow_api):
        while_down = await rematcher(workflow_api).run_once()

    # then the run stops early and the invoice still waits, unposted
    assert while_down.materials_down
    assert waiting.id not in while_down.matched
    assert (await now_of(workflow_api, waiting.id)).status is InvoiceStatus.VALIDATED
    assert erp_postings(workflow_api.runtime, waiting.id, waiting.facility_id) == 0

    # when materials management is back and the re-match runs twice
    first = await rematcher(workflow_api).run_once()
    second = await rematcher(workflow_api).run_once()

    # then the first run matched and posted it, the second found nothing to do, and the
    # facility's ERP booked it once
    assert first.matched[waiting.id] is InvoiceStatus.POSTED
    assert not first.materials_down
    assert second.matched == {}
    posted = await now_of(workflow_api, waiting.id)
    assert posted.status is InvoiceStatus.POSTED
    assert posted.erp_document_ref
    assert erp_postings(workflow_api.runtime, waiting.id, waiting.facility_id) == 1


async def test_a_rematch_sends_an_invoice_without_receipt_to_an_approver(workflow_api, orders):
    # given an invoice, billing a line nothing was received of, that waits in VALIDATED
    order = await orders.take("none")
    waiting = await submitted_while_materials_down(workflow_api, order, order.unreceived_invoice())

    # when materials management is back and the re-match runs
    report = await rematcher(workflow_api).run_once()

    # then the invoice waits in EXCEPTION with its reason, and nothing was posted
    assert report.matched[waiting.id] is InvoiceStatus.EXCEPTION
    assert await codes_of(workflow_api, waiting.id) == {MatchCode.MISSING_RECEIPT.value}
    assert erp_postings(workflow_api.runtime, waiting.id, waiting.facility_id) == 0
