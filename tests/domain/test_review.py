"""review_invoice: what holds an invoice for a person to look at (domain/review.py)."""

from dataclasses import replace
from datetime import timedelta

import pytest

from apgraph.domain.codes import MatchCode as M
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.review import ReviewRules, review_invoice
from tests.domain.examples import INVOICE_DATE, NOW, d, invoice, order

RULES = ReviewRules()
THIS = invoice(1, supplier_invoice_number="DUP-77", received_at=NOW)


def codes(this=THIS, *, on_file=(), the_order=None, rules=RULES):
    found = review_invoice(
        this,
        order=the_order or order(ordered_on=INVOICE_DATE - timedelta(days=30)),
        on_file=list(on_file),
        rules=rules,
        duplicate_window_days=7,
    )
    return [finding.code for finding in found]


def earlier(number: str, *, days_before: int = 8, **changes):
    return invoice(
        2,
        supplier_invoice_number=number,
        invoice_date=INVOICE_DATE - timedelta(days=days_before),
        **{"status": InvoiceStatus.POSTED, **changes},
    )


def test_an_ordinary_invoice_is_not_held():
    assert codes() == []


@pytest.mark.parametrize("number", ["DUP-77", "DUP77", "DUP-7", "DUP-78", "dup 077"])
def test_the_same_total_outside_the_window_under_a_near_number_is_a_possible_duplicate(number):
    assert codes(on_file=[earlier(number)]) == [M.POSSIBLE_DUPLICATE]


@pytest.mark.parametrize(
    "other",
    [
        earlier("DUP-77", days_before=7),  # inside the window: validation's DUPLICATE_INVOICE
        earlier("Q-9912"),  # another number altogether
        earlier("DUP-77", total=d("1082.51")),  # another total
        earlier("DUP-77", currency="EUR"),
        earlier("DUP-77", status=InvoiceStatus.REJECTED),
        earlier("DUP-77", supplier_id="SUP-000002"),
    ],
)
def test_other_invoices_are_not_possible_duplicates(other):
    assert codes(on_file=[other]) == []


def test_the_edit_distance_is_policy():
    exact = ReviewRules(near_duplicate_distance=0)
    assert codes(on_file=[earlier("DUP-78")], rules=exact) == []
    assert codes(on_file=[earlier("DUP077")], rules=exact) == [M.POSSIBLE_DUPLICATE]


def test_an_invoice_dated_before_its_po_was_ordered_is_held():
    assert codes(the_order=order(ordered_on=INVOICE_DATE + timedelta(days=1))) == [
        M.INVOICE_PREDATES_PO
    ]


@pytest.mark.parametrize(("days", "held"), [(365, False), (366, True)])
def test_an_invoice_dated_long_before_it_arrived_is_stale(days, held):
    this = replace(THIS, invoice_date=NOW.date() - timedelta(days=days))
    the_order = order(ordered_on=this.invoice_date - timedelta(days=1))
    assert (codes(this, the_order=the_order) == [M.STALE_INVOICE]) is held


def test_a_zero_total_is_held_where_the_policy_says_so():
    zero = replace(THIS, subtotal=d("0.00"), tax=d("0.00"), total=d("0.00"))
    assert codes(zero) == [M.ZERO_TOTAL]
    assert codes(zero, rules=ReviewRules(hold_zero_total=False)) == []
