"""An ERP simulator's book honours idempotency keys as real ERPs do: a repeated key answers
the first document and books nothing, and a new key for an invoice number the vendor already
billed is refused as a duplicate, whether that document was posted in this run, seeded,
replayed from the journal or recorded by a benchmark."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from apgraph.demo import generator
from apgraph.simulators.erp_book import Document, Draft, ErpBook, Refusal
from apgraph.simulators.legacy_erp import tax_number, vendor_key

NETWORK = generator.generate(
    generator.DemoSize(facilities=1, suppliers=10, purchase_orders=40, invoices=60)
)
VENDOR = vendor_key(NETWORK.suppliers[0])
DRAFT = Draft(
    vendor_key=VENDOR,
    external_ref="INV-00900001",
    vendor_invoice_no="A-1",
    currency="USD",
    gross=Decimal("110.00"),
    tax=Decimal("10.00"),
    document_date=date(2026, 11, 2),
    purchase_order=None,
    cost_object="CC-0001-4410",
)


def book() -> ErpBook:
    return ErpBook.seeded(NETWORK, prefix="LEG", vendor_key=vendor_key, tax_id=tax_number)


def test_a_repeated_token_answers_the_first_document_and_books_nothing():
    # given a posting under token t1
    erp = book()
    first, created = erp.post(DRAFT, token="t1")
    booked = len(erp.documents)

    # when the same token comes again, even with another payload
    again, created_again = erp.post(replace(DRAFT, gross=Decimal("1.00")), token="t1")

    # then it is the first document, and the book did not grow
    assert (created, created_again) == (True, False)
    assert again == first
    assert len(erp.documents) == booked
    assert erp.by_token("t1") == first


def test_a_new_token_for_an_invoice_number_the_vendor_billed_is_a_duplicate():
    erp = book()
    erp.post(DRAFT, token="t1")

    with pytest.raises(Refusal) as refused:
        erp.post(DRAFT, token="t2")

    assert refused.value.reason == "DUPLICATE_INVOICE"
    assert erp.by_token("t2") is None


def test_the_same_invoice_number_of_another_vendor_is_no_duplicate():
    erp = book()
    erp.post(DRAFT, token="t1")
    other = vendor_key(NETWORK.suppliers[1])

    document, created = erp.post(replace(DRAFT, vendor_key=other), token="t2")

    assert created
    assert document.vendor_key == other


def test_a_seeded_document_is_found_by_its_token_and_its_number_is_billed():
    # given the book as seeded from the demo network's posted invoices
    erp = book()
    seeded = next(iter(erp.documents.values()))

    # then its token answers it, and its vendor cannot bill its number again
    assert erp.by_token(seeded.token) == seeded
    with pytest.raises(Refusal) as refused:
        erp.post(
            replace(
                DRAFT, vendor_key=seeded.vendor_key, vendor_invoice_no=seeded.vendor_invoice_no
            ),
            token="fresh",
        )
    assert refused.value.reason == "DUPLICATE_INVOICE"


def test_postings_replayed_from_the_journal_are_repeats_and_duplicates(tmp_path: Path):
    # given a posting journaled by an earlier run
    journal = tmp_path / "legacy-erp.jsonl"
    earlier = book()
    earlier.keep_journal(journal)
    first, _ = earlier.post(DRAFT, token="t1")

    # when a new book replays the journal
    erp = book()
    assert erp.keep_journal(journal) == 1

    # then the token answers the replayed document, and a new token for its number is refused
    assert erp.post(DRAFT, token="t1") == (first, False)
    with pytest.raises(Refusal):
        erp.post(DRAFT, token="t2")


def test_a_recorded_document_is_known_and_numbers_continue_after_it():
    # given a document a benchmark recorded as posted before the run
    erp = book()
    recorded = Document(
        number=90_000_001,
        token="bench-1",
        vendor_key=VENDOR,
        external_ref="INV-60000001",
        vendor_invoice_no="B-1",
        currency="USD",
        gross=Decimal("100.00"),
        tax=Decimal("0.00"),
        document_date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        posted_on=date(2026, 11, 2),
    )
    erp.record(recorded)

    # then it is found by its token, its number is billed, and the next posting follows it
    assert erp.by_token("bench-1") == recorded
    with pytest.raises(Refusal):
        erp.post(replace(DRAFT, vendor_invoice_no="B-1"), token="t9")
    document, _ = erp.post(DRAFT, token="t1")
    assert document.number == 90_000_002
