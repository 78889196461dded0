"""Dead letters: a posting that failed past every retry is filed once in the one store and
replayed into the ERP once, however often the replay runs."""

import uuid

from apgraph.domain.dead_letters import DeadLetter, DeadLetterKind
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.systems import ExternalSystem
from apgraph.services import submission
from apgraph.services.dead_letters import (
    REPLAYER,
    open_letters,
    replay_dead_letter,
    replay_dead_letters,
    workflow_replays,
)
from apgraph.services.ports.dead_letters import DeadLetterFilter
from apgraph.services.ports.reads import PageRequest
from apgraph.simulators.faults import Fault, FaultKind
from apgraph.store.dead_letters import SqlDeadLetters
from tests.services.test_submission import supplier_user
from tests.services.workflow_support import CLOCK, reads, workflow
from tests.workflow import erp_postings

POSTING = DeadLetterKind.POSTING


def replay_all(runtime):
    return replay_dead_letters(
        store=SqlDeadLetters(runtime.engine),
        replays=replays(runtime),
        principal=REPLAYER,
        clock=CLOCK,
        kind=POSTING,
        limit=10_000,
    )


def replays(runtime):
    return workflow_replays(workflow=workflow(runtime), reads=reads(runtime, REPLAYER), clock=CLOCK)


async def letters_of(runtime, subject: str) -> list[DeadLetter]:
    page = await SqlDeadLetters(runtime.engine).page(
        DeadLetterFilter(kind=POSTING), PageRequest(first=10_000)
    )
    return [x for x in page.items if x.subject == subject]


def reopen_erps(runtime) -> None:
    runtime.connectors.simulators.reset_faults()
    # The failures opened the ERP breakers, which let a trial call through only after their
    # 30 s cool-down (wall clock); this stands in for that trial having succeeded.
    for probe in runtime.connectors.probes:
        if probe.system in (ExternalSystem.LEGACY_ERP, ExternalSystem.CLOUD_ERP):
            probe.endpoint.breaker.succeeded()


async def failed_posting(workflow_api, orders):
    """An invoice submitted while both ERPs were down past every retry."""
    order = await orders.take("full")
    simulators = workflow_api.runtime.connectors.simulators
    for erp in (simulators.legacy_erp, simulators.cloud_erp):
        erp.plan.add(Fault(FaultKind.ERROR, times=None))
    submitted = await submission.submit_invoice(
        submission.SubmitInvoice(invoice=order.clean_invoice(), idempotency_key=uuid.uuid4().hex),
        principal=supplier_user(order),
        workflow=workflow(workflow_api.runtime),
        reads=reads(workflow_api.runtime, supplier_user(order)),
        clock=CLOCK,
    )
    invoice = submitted.value
    assert invoice is not None
    return invoice


async def test_a_failed_posting_is_a_dead_letter_until_a_replay_posts_it_once(workflow_api, orders):
    runtime = workflow_api.runtime
    try:
        # given an invoice whose posting failed while both ERPs were down
        invoice = await failed_posting(workflow_api, orders)
        assert invoice.status is InvoiceStatus.POSTING_FAILED
        # filed once in the dead-letter store, with the failure
        [letter] = await letters_of(runtime, invoice.id)
        assert (letter.attempts, letter.resolved, letter.code) == (1, False, "ERP_UNAVAILABLE")
        waiting = await open_letters(
            store=SqlDeadLetters(runtime.engine), kind=POSTING, limit=10_000
        )
        assert letter.id in {x.id for x in waiting}

        # when a replay runs while they are still down
        still = await replay_all(runtime)

        # then it stays a dead letter, one more attempt counted on the same letter
        assert letter.id in {x.id for x, _ in still.still_failing}
        assert [(x.attempts, x.resolved) for x in await letters_of(runtime, invoice.id)] == [
            (2, False)
        ]
    finally:
        reopen_erps(runtime)

    # when the ERPs are back and the replay runs twice
    first = await replay_all(runtime)
    second = await replay_all(runtime)

    # then the first posts it, the second finds nothing of it, and the ERP booked it once
    assert letter.id in {x.id for x in first.resolved}
    assert letter.id not in {x.id for x in second.resolved} | {
        x.id for x, _ in second.still_failing
    }
    assert erp_postings(runtime, invoice.id, invoice.facility_id) == 1
    [done] = await letters_of(runtime, invoice.id)
    assert done.resolved
    assert (done.outcome or "").startswith("POSTED ")


async def test_replaying_a_resolved_letter_answers_its_first_outcome_and_posts_nothing(
    workflow_api, orders
):
    runtime = workflow_api.runtime
    try:
        invoice = await failed_posting(workflow_api, orders)
    finally:
        reopen_erps(runtime)
    [letter] = await letters_of(runtime, invoice.id)
    store = SqlDeadLetters(runtime.engine)

    # when the letter is replayed twice by its ID
    first = await replay_dead_letter(
        letter.id, store=store, replays=replays(runtime), principal=REPLAYER, clock=CLOCK
    )
    second = await replay_dead_letter(
        letter.id, store=store, replays=replays(runtime), principal=REPLAYER, clock=CLOCK
    )

    # then the first posts it, the second is refused with the first outcome, posted once
    assert first.ok
    assert first.value is not None
    assert first.value.resolved
    assert [p.code.value for p in second.problems] == ["DEAD_LETTER_ALREADY_REPLAYED"]
    assert second.value == first.value
    assert erp_postings(runtime, invoice.id, invoice.facility_id) == 1
