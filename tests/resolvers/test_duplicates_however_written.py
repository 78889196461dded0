"""Duplicate invoice numbers however they are written, and the invoices held for review
(domain/invoice_numbers.py, domain/review.py), through submitInvoice on both databases."""

import random
import string
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.resolvers.test_invariants_under_concurrency import billing, submit
from tests.workflow import today


def unique() -> str:
    """A prefix of letters no other test's number has (digits would meet the zero rules)."""
    return "".join(random.choices(string.ascii_uppercase, k=10))


def some() -> Decimal:
    """A fraction of a unit, so that no other invoice of the supplier has this total (the
    same total within a week is a duplicate too)."""
    return Decimal(random.randint(1000, 9999)).scaleb(-4)  # 0.1 to 0.9999: never totals 0.00


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("DUP-77", "DUP77"),  # punctuation
        ("DUP-77", "DUP-077"),  # a leading zero
        ("INV001", "INV-001"),
        ("INV-001", "INV-0001"),
        ("INV-001", "INV-\uff10\uff10\uff11"),  # full-width digits
        ("INV-001", "INV\u00a0001"),  # a no-break space
        ("INV-001", "INV-0\u200b01"),  # a zero-width space
        ("INV-001", "INV\u2013001"),  # an en dash
        ("INV-001", "\u0406NV-001"),  # a Cyrillic І for the Latin I
        ("inv 001", "INV/001"),
    ],
    ids=[
        "hyphen",
        "leading-zero",
        "inserted-hyphen",
        "more-zeros",
        "full-width",
        "no-break-space",
        "zero-width-space",
        "en-dash",
        "cyrillic-i",
        "case-space-slash",
    ],
)
async def test_one_number_written_another_way_is_a_duplicate(workflow_api, orders, first, second):
    # given an invoice of a supplier under one number
    order = await orders.take("full")
    line = order.lines[0]
    prefix = unique()
    one = await submit(
        workflow_api,
        order,
        billing(order, line, some(), cents_off=1, number=prefix + first),
    )
    assert one["status"] in ("POSTED", "EXCEPTION"), one

    # when the supplier sends another invoice (another total) under the number written
    # another way
    two = await submit(
        workflow_api,
        order,
        billing(order, line, some(), cents_off=2, number=prefix + second),
    )

    # then it is rejected as a duplicate of the first
    assert two["status"] == "REJECTED", two
    assert [e["code"] for e in two["exceptions"]] == ["DUPLICATE_INVOICE"]


async def test_a_near_number_for_the_same_total_outside_the_window_is_held_for_review(
    workflow_api, orders
):
    # given an invoice dated eight days ago (outside the 7-day duplicate window)
    order = await orders.take("full")
    line = max(order.lines, key=lambda line: order.received[line.line_no])
    prefix, quantity = unique(), some()
    earlier = billing(order, line, quantity, cents_off=1, number=f"{prefix}DUP-77")
    await submit(workflow_api, order, replace(earlier, invoice_date=today() - timedelta(days=8)))

    # when the supplier sends the same total today under a number one keystroke away
    later = billing(order, line, quantity, cents_off=1, number=f"{prefix}DUP-7")
    held = await submit(workflow_api, order, later)

    # then it waits for an approver as a possible duplicate instead of posting
    assert held["status"] == "EXCEPTION", held
    assert "POSSIBLE_DUPLICATE" in {e["code"] for e in held["exceptions"]}


async def test_a_different_number_for_the_same_total_outside_the_window_posts(workflow_api, orders):
    order = await orders.take("full")
    line = max(order.lines, key=lambda line: order.received[line.line_no])
    prefix, quantity = unique(), some()
    earlier = billing(order, line, quantity, cents_off=1, number=f"{prefix}A-5531")
    await submit(workflow_api, order, replace(earlier, invoice_date=today() - timedelta(days=8)))

    later = await submit(
        workflow_api, order, billing(order, line, quantity, cents_off=1, number=f"{prefix}B-98")
    )

    assert later["status"] == "POSTED", later


async def test_an_invoice_dated_before_its_po_was_ordered_is_held(workflow_api, orders):
    order = await orders.take("full")
    line = order.lines[0]
    before = replace(
        billing(order, line, some(), cents_off=1),
        invoice_date=order.order.ordered_on - timedelta(days=1),
    )

    held = await submit(workflow_api, order, before)

    assert held["status"] == "EXCEPTION", held
    assert "INVOICE_PREDATES_PO" in {e["code"] for e in held["exceptions"]}


async def test_an_invoice_dated_over_a_year_before_it_arrived_is_held(workflow_api, orders):
    order = await orders.take("full")
    stale = replace(
        billing(order, order.lines[0], some(), cents_off=1),
        invoice_date=today() - timedelta(days=400),
    )

    held = await submit(workflow_api, order, stale)

    assert held["status"] == "EXCEPTION", held
    assert "STALE_INVOICE" in {e["code"] for e in held["exceptions"]}


async def test_a_zero_total_invoice_is_held_not_booked(workflow_api, orders):
    order = await orders.take("full")
    line = order.lines[0]
    free = billing(order, line, Decimal(1), cents_off=0)
    (billed,) = free.lines
    zero = replace(
        free,
        lines=(replace(billed, unit_price=Decimal("0.00"), amount=Decimal("0.00")),),
        subtotal=Decimal("0.00"),
        tax=Decimal("0.00"),
        total=Decimal("0.00"),
    )

    held = await submit(workflow_api, order, zero)

    assert held["status"] == "EXCEPTION", held
    assert [e["code"] for e in held["exceptions"]] == ["ZERO_TOTAL"]
