"""The dead-letter store: one open letter per subject, written with its failure or not at all,
and resolved once with the outcome it ended with."""

from datetime import UTC, datetime, timedelta

from apgraph.domain.dead_letters import DeadLetterKind
from apgraph.domain.invoices import InvoiceStatus
from apgraph.services.ports.dead_letters import DeadLetterFilter
from apgraph.services.ports.reads import PageRequest
from apgraph.store.dead_letters import SqlDeadLetters
from apgraph.store.unit_of_work import SqlUnitOfWork

AT = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
LATER = AT + timedelta(minutes=5)
POSTING = DeadLetterKind.POSTING


async def test_a_subject_failing_again_counts_an_attempt_on_its_one_open_letter(engine):
    # given a posting filed as a dead letter
    store = SqlDeadLetters(engine)
    first = await store.record(POSTING, "INV-1", code="ERP_UNAVAILABLE", detail="down", at=AT)

    # when it fails again, this time refused
    again = await store.record(POSTING, "INV-1", code="ERP_REJECTED", detail="no", at=LATER)

    # then it is the same letter, with two attempts and the latest failure
    assert again.number == first.number
    assert (again.attempts, again.code, again.first_failed_at, again.last_failed_at) == (
        2,
        "ERP_REJECTED",
        AT,
        LATER,
    )
    page = await store.page(DeadLetterFilter(), PageRequest(first=10))
    assert [letter.subject for letter in page.items] == ["INV-1"]


async def test_a_letter_written_in_a_unit_of_work_that_rolls_back_is_not_filed(engine):
    # given a unit of work that files a letter and leaves without committing
    async with SqlUnitOfWork(engine) as uow:
        await uow.dead_letters.record(POSTING, "INV-2", code="ERP_UNAVAILABLE", detail=None, at=AT)

    # then nothing was filed
    page = await SqlDeadLetters(engine).page(DeadLetterFilter(), PageRequest(first=10))
    assert page.items == []


async def test_a_resolved_letter_keeps_its_first_outcome_and_a_new_failure_opens_another(engine):
    # given a letter resolved by a replay
    store = SqlDeadLetters(engine)
    letter = await store.record(POSTING, "INV-3", code="ERP_UNAVAILABLE", detail=None, at=AT)
    await store.mark_replayed(letter.number, outcome="POSTED DOC-1", by="dana", at=LATER)

    # when it is marked again, and the same subject fails later
    again = await store.mark_replayed(letter.number, outcome="POSTED DOC-2", by="eve", at=LATER)
    newer = await store.record(POSTING, "INV-3", code="ERP_UNAVAILABLE", detail=None, at=LATER)

    # then the first outcome stays, and the new failure is a new open letter
    assert again is not None
    assert (again.outcome, again.resolved_by, again.resolved) == ("POSTED DOC-1", "dana", True)
    assert newer.number != letter.number
    open_ = await store.page(DeadLetterFilter(resolved=False), PageRequest(first=10))
    assert [x.number for x in open_.items] == [newer.number]
    assert (await store.open_counts())[POSTING] == 1


async def test_pages_follow_the_letters_in_filing_order_filtered_by_kind(engine):
    # given letters of two kinds
    store = SqlDeadLetters(engine)
    for n in range(3):
        await store.record(POSTING, f"INV-{n}", code="ERP_UNAVAILABLE", detail=None, at=AT)
    await store.record(
        DeadLetterKind.PAYMENT_RELEASE, "PAY-1", code="ERP_UNAVAILABLE", detail=None, at=AT
    )

    # when the postings are read two at a time
    first = await store.page(DeadLetterFilter(kind=POSTING), PageRequest(first=2))
    rest = await store.page(
        DeadLetterFilter(kind=POSTING), PageRequest(first=2, after=first.items[-1].id)
    )

    # then each comes once, in order, and the payment never
    assert [x.subject for x in [*first.items, *rest.items]] == ["INV-0", "INV-1", "INV-2"]
    assert (first.has_next_page, rest.has_next_page) == (True, False)


async def test_the_seeded_network_files_its_failed_postings(seeded, tiny_network):
    # given the tiny network, which has invoices in POSTING_FAILED
    failed = {i.id for i in tiny_network.invoices if i.status is InvoiceStatus.POSTING_FAILED}

    # then each is an open POSTING letter
    page = await SqlDeadLetters(seeded).page(DeadLetterFilter(kind=POSTING), PageRequest(first=500))
    assert failed
    assert {x.subject for x in page.items} == failed
