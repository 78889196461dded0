"""Dead letters: invoices whose posting failed are listed and replayed, never booked twice."""

import uuid

from apgraph.domain.dead_letters import DeadLetter, DeadLetterKind
from apgraph.domain.invoices import InvoiceStatus
from apgraph.services import submission
from apgraph.services.dead_letters import REPLAYER, dead_letters, replay_dead_letters
from apgraph.services.ports.connectors import ExternalSystem
from apgraph.services.ports.dead_letters import DeadLetterFilter
from apgraph.services.ports.reads import PageRequest
from apgraph.simulators.faults import Fault, FaultKind
from apgraph.store.dead_letters import SqlDeadLetters
from tests.services.test_submission import supplier_user
from tests.services.workflow_support import CLOCK, reads, workflow
from tests.workflow import erp_postings


async def test_a_failed_posting_is_a_dead_letter_until_a_replay_posts_it_once(workflow_api, orders):
    async def letters_of(subject: str) -> list[DeadLetter]:
        page = await SqlDeadLetters(workflow_api.runtime.engine).page(
            DeadLetterFilter(kind=DeadLetterKind.POSTING), PageRequest(first=10_000)
        )
        return [x for x in page.items if x.subject == subject]

    # given an invoice whose posting failed while both ERPs were down
    order = await orders.take("full")
    simulators = workflow_api.runtime.connectors.simulators
    for erp in (simulators.legacy_erp, simulators.cloud_erp):
        erp.plan.add(Fault(FaultKind.ERROR, times=None))
    try:
        submitted = await submission.submit_invoice(
            submission.SubmitInvoice(
                invoice=order.clean_invoice(), idempotency_key=uuid.uuid4().hex
            ),
            principal=supplier_user(order),
            workflow=workflow(workflow_api.runtime),
            reads=reads(workflow_api.runtime, supplier_user(order)),
            clock=CLOCK,
        )
        invoice = submitted.value
        assert invoice is not None
        assert invoice.status is InvoiceStatus.POSTING_FAILED
        everything = reads(workflow_api.runtime, REPLAYER)
        assert invoice.id in {i.id for i in await dead_letters(reads=everything, limit=10_000)}
        # filed once in the dead-letter store, with the failure
        assert [(x.attempts, x.resolved) for x in await letters_of(invoice.id)] == [(1, False)]

        # when a replay runs while they are still down
        still = await replay_dead_letters(
            reads=everything, workflow=workflow(workflow_api.runtime), clock=CLOCK, limit=10_000
        )
        # then it stays a dead letter, reported as still failing
        assert invoice.id in {i for i, _ in still.still_failing}
        assert invoice.id not in still.posted
        assert [(x.attempts, x.resolved) for x in await letters_of(invoice.id)] == [(2, False)]
    finally:
        simulators.reset_faults()
        # The failures opened the ERP breakers, which let a trial call through only after
        # their 30 s cool-down (wall clock); this stands in for that trial having succeeded.
        for probe in workflow_api.runtime.connectors.probes:
            if probe.system in (ExternalSystem.LEGACY_ERP, ExternalSystem.CLOUD_ERP):
                probe.endpoint.breaker.succeeded()

    # when the ERPs are back and the replay runs twice
    first = await replay_dead_letters(
        reads=everything, workflow=workflow(workflow_api.runtime), clock=CLOCK, limit=10_000
    )
    second = await replay_dead_letters(
        reads=everything, workflow=workflow(workflow_api.runtime), clock=CLOCK, limit=10_000
    )

    # then the first posts it, the second finds nothing of it, and the ERP booked it once
    assert invoice.id in first.posted
    assert invoice.id not in second.posted + [i for i, _ in second.still_failing]
    assert invoice.id not in {i.id for i in await dead_letters(reads=everything, limit=10_000)}
    assert erp_postings(workflow_api.runtime, invoice.id, invoice.facility_id) == 1
    [letter] = await letters_of(invoice.id)
    assert letter.resolved
    assert (letter.outcome or "").startswith("POSTED ")
