"""check_input: a submission unfit to store is refused, with field paths, before any write."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from apgraph.domain.codes import ProblemCode as P
from apgraph.domain.submission import MAX_LINES, check_input
from tests.domain.examples import INVOICE_DATE, NOW, d, order_line, submitted, submitted_line

ORDER_LINES = [order_line(1), order_line(2)]
LINE_0 = ("input", "lines", "0")


def problems(bill=None, *, order_lines=ORDER_LINES, at=NOW):
    found = check_input(bill or submitted(), order_lines=order_lines, at=at)
    return [(problem.code, problem.path) for problem in found]


def test_a_well_formed_submission_has_no_problems():
    assert problems() == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"quantity": d(0)}, (P.INVALID_QUANTITY, (*LINE_0, "quantity"))),
        ({"quantity": d(-5)}, (P.INVALID_QUANTITY, (*LINE_0, "quantity"))),
        ({"quantity": Decimal("NaN")}, (P.INVALID_QUANTITY, (*LINE_0, "quantity"))),
        ({"quantity": Decimal("Infinity")}, (P.INVALID_QUANTITY, (*LINE_0, "quantity"))),
        ({"quantity": d("1E13")}, (P.INVALID_QUANTITY, (*LINE_0, "quantity"))),
        ({"quantity": d("1.00001")}, (P.TOO_MANY_DECIMALS, (*LINE_0, "quantity"))),
        ({"unit_price": d("-0.01")}, (P.INVALID_AMOUNT, (*LINE_0, "unitPrice"))),
        ({"unit_price": d("0.03751")}, (P.TOO_MANY_DECIMALS, (*LINE_0, "unitPrice"))),
        ({"amount": d("1000.001")}, (P.TOO_MANY_DECIMALS, (*LINE_0, "amount"))),
        ({"amount": d("-1000.00")}, (P.INVALID_AMOUNT, (*LINE_0, "amount"))),
        ({"unit_of_measure": " "}, (P.FIELD_REQUIRED, (*LINE_0, "unitOfMeasure"))),
        ({"unit_of_measure": "CS"}, (P.UNIT_OF_MEASURE_MISMATCH, (*LINE_0, "unitOfMeasure"))),
        ({"description": "x" * 301}, (P.FIELD_TOO_LONG, (*LINE_0, "description"))),
        ({"item_id": "I" * 65}, (P.FIELD_TOO_LONG, (*LINE_0, "itemId"))),
        ({"po_line_no": 9}, (P.UNKNOWN_PO_LINE, (*LINE_0, "poLineNo"))),
        ({"po_line_no": None}, (P.PO_LINE_REQUIRED, (*LINE_0, "poLineNo"))),
    ],
)
def test_a_bad_line_is_one_problem_at_its_field(changes, expected):
    # given an invoice whose header is fine, and one line with one field wrong
    good = submitted()
    bill = replace(good, lines=(replace(good.lines[0], **changes),))
    assert problems(bill) == [expected]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"supplier_invoice_number": "  "}, (P.FIELD_REQUIRED, ("input", "supplierInvoiceNumber"))),
        (
            {"supplier_invoice_number": "N" * 65},
            (P.FIELD_TOO_LONG, ("input", "supplierInvoiceNumber")),
        ),
        ({"currency": "XXX"}, (P.UNKNOWN_CURRENCY, ("input", "currency"))),
        ({"tax": d("-1.00")}, (P.INVALID_AMOUNT, ("input", "tax"))),
        ({"total": d("1082.505")}, (P.TOO_MANY_DECIMALS, ("input", "total"))),
        ({"subtotal": Decimal("sNaN")}, (P.INVALID_AMOUNT, ("input", "subtotal"))),
        ({"lines": ()}, (P.NO_LINES, ("input", "lines"))),
    ],
)
def test_a_bad_header_field_is_one_problem_at_its_field(changes, expected):
    assert problems(replace(submitted(), **changes)) == [expected]


def test_amounts_are_judged_by_value_not_by_how_many_zeros_they_carry():
    bill = submitted(submitted_line(amount=d("1000.000000")))
    assert problems(bill) == []


def test_decimals_follow_the_currency():
    yen = submitted(submitted_line(10, "100", amount=d("1000.5")), currency="JPY")
    assert (P.TOO_MANY_DECIMALS, (*LINE_0, "amount")) in problems(yen)


def test_with_an_unknown_currency_amount_decimals_are_not_judged():
    bill = replace(submitted(submitted_line(amount=d("1000.001"))), currency="XXX")
    assert problems(bill) == [(P.UNKNOWN_CURRENCY, ("input", "currency"))]


@pytest.mark.parametrize(("days_ahead", "refused"), [(0, False), (1, False), (2, True)])
def test_an_invoice_dated_after_tomorrow_is_refused(days_ahead, refused):
    bill = submitted(invoice_date=NOW.date() + timedelta(days=days_ahead))
    expected = [(P.INVOICE_DATE_IN_FUTURE, ("input", "invoiceDate"))] if refused else []
    assert problems(bill) == expected


def test_ten_thousand_lines_are_one_problem_and_no_line_is_looked_at():
    bill = submitted(*[submitted_line(po_line_no=99)] * 10_000)
    assert problems(bill) == [(P.TOO_MANY_LINES, ("input", "lines"))]
    assert problems(submitted(*[submitted_line()] * MAX_LINES)) == []


def test_a_20_mb_field_is_too_long_and_the_problem_does_not_echo_it():
    huge = "x" * (20 * 1024 * 1024)
    found = check_input(
        submitted(submitted_line(description=huge)), order_lines=ORDER_LINES, at=NOW
    )
    assert [(p.code, p.path) for p in found] == [(P.FIELD_TOO_LONG, (*LINE_0, "description"))]
    assert len(found[0].message) < 100


def test_every_problem_is_reported_with_the_index_of_its_line():
    bill = submitted(submitted_line(), submitted_line(quantity=0, po_line_no=7))
    assert problems(bill) == [
        (P.INVALID_QUANTITY, ("input", "lines", "1", "quantity")),
        (P.UNKNOWN_PO_LINE, ("input", "lines", "1", "poLineNo")),
    ]


def test_po_lines_are_not_checked_when_the_po_is_unknown():
    # validation reports PO_NOT_FOUND; the submission itself is well formed
    assert problems(submitted(submitted_line(po_line_no=9)), order_lines=None) == []


def test_a_non_po_invoice_names_no_po_lines():
    non_po = submitted(submitted_line(po_line_no=None), purchase_order_id=None)
    assert problems(non_po, order_lines=None) == []
    stray = submitted(submitted_line(po_line_no=1), purchase_order_id=None)
    assert problems(stray, order_lines=None) == [(P.UNKNOWN_PO_LINE, (*LINE_0, "poLineNo"))]


def test_units_of_measure_compare_without_case_or_spaces():
    assert problems(submitted(submitted_line(unit_of_measure=" bx "))) == []


def test_the_invoice_keeps_its_lines_numbered_from_one():
    bill = submitted(submitted_line(), submitted_line(5, "2.00", po_line_no=2))
    lines = bill.invoice_lines()
    assert [(line.line_no, line.po_line_no, line.quantity) for line in lines] == [
        (1, 1, d(100)),
        (2, 2, d(5)),
    ]
    assert bill.invoice_date == INVOICE_DATE
