"""validate_invoice: every check runs, every failing code once (DESIGN §4)."""

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apgraph.domain.codes import ValidationCode as V
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.purchasing import PurchaseOrderStatus
from apgraph.domain.suppliers import SupplierStatus, TaxTreatment
from apgraph.domain.validation import (
    PostingFacts,
    ValidationFacts,
    recheck_before_posting,
    validate_invoice,
)
from tests.domain.examples import (
    INVOICE_DATE,
    cost_center,
    d,
    invoice,
    order,
    submitted,
    submitted_line,
    supplier,
)

GOOD = ValidationFacts(supplier=supplier(), purchase_order=order(), cost_center=cost_center())
PO_CHECKS = {V.PO_CLOSED, V.PO_SUPPLIER_MISMATCH, V.PO_FACILITY_MISMATCH, V.CURRENCY_MISMATCH}


def codes(invoice_in=None, facts=GOOD, window=7):
    reasons = validate_invoice(invoice_in or submitted(), facts, duplicate_window_days=window)
    return [reason.code for reason in reasons]


def test_a_valid_invoice_has_no_reasons():
    assert codes() == []


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (replace(GOOD, supplier=None), [V.SUPPLIER_UNKNOWN]),  # and no tax check
        (replace(GOOD, supplier=supplier(status=SupplierStatus.BLOCKED)), [V.SUPPLIER_BLOCKED]),
        (replace(GOOD, supplier=supplier(status=SupplierStatus.ONBOARDING)), [V.SUPPLIER_BLOCKED]),
        (replace(GOOD, supplier=supplier(status=SupplierStatus.ON_HOLD)), []),  # a payment hold
        (replace(GOOD, purchase_order=None), [V.PO_NOT_FOUND]),
        (replace(GOOD, purchase_order=order(status=PurchaseOrderStatus.CLOSED)), [V.PO_CLOSED]),
        (replace(GOOD, purchase_order=order(status=PurchaseOrderStatus.CANCELLED)), [V.PO_CLOSED]),
        (replace(GOOD, purchase_order=order(status=PurchaseOrderStatus.RECEIVED)), []),
        (
            replace(GOOD, purchase_order=order(supplier_id="SUP-000002")),
            [V.PO_SUPPLIER_MISMATCH],
        ),
        (
            replace(GOOD, purchase_order=order(facility_id="FAC-0002")),
            [V.PO_FACILITY_MISMATCH],
        ),
        (replace(GOOD, purchase_order=order(currency="CAD")), [V.CURRENCY_MISMATCH]),
        (replace(GOOD, cost_center=None), [V.COST_CENTER_INVALID]),
        (replace(GOOD, cost_center=cost_center(active=False)), [V.COST_CENTER_INVALID]),
        (
            replace(GOOD, cost_center=cost_center(facility_id="FAC-0002")),
            [V.COST_CENTER_FACILITY_MISMATCH],
        ),
        (
            replace(GOOD, cost_center=cost_center(facility_id="FAC-0002", active=False)),
            [V.COST_CENTER_INVALID, V.COST_CENTER_FACILITY_MISMATCH],
        ),
    ],
)
def test_each_fact_that_does_not_fit_is_one_reason(facts, expected):
    assert codes(facts=facts) == expected


def test_po_not_found_skips_every_check_that_needs_the_po():
    # given an invoice in another currency, against a PO that does not exist
    cad = submitted(currency="CAD")
    assert codes(cad, replace(GOOD, purchase_order=None)) == [V.PO_NOT_FOUND]


def test_a_non_po_invoice_has_no_po_checks():
    assert codes(submitted(submitted_line(po_line_no=None), purchase_order_id=None)) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"amount": d("1000.01")}, []),  # a line may round its own way, by up to 0.01
        ({"amount": d("1000.02")}, [V.TOTALS_MISMATCH]),
        ({"amount": d("999.98")}, [V.TOTALS_MISMATCH]),
    ],
)
def test_a_line_amount_may_differ_from_qty_times_price_by_a_cent(changes, expected):
    # given 100 × 10.00, the subtotal and total made to agree with the line as billed
    billed = submitted_line(**changes)
    assert codes(submitted(billed)) == expected


def test_a_subtotal_that_is_not_the_sum_of_the_lines_is_a_totals_mismatch():
    base = submitted(submitted_line(), submitted_line(5, "2.00"), tax="0.00")
    facts = replace(GOOD, supplier=supplier(tax_treatment=TaxTreatment.EXEMPT, tax_rate=d(0)))
    off = replace(base, subtotal=base.subtotal + d("0.01"), total=base.total + d("0.01"))
    assert codes(off, facts) == [V.TOTALS_MISMATCH]


def test_subtotal_plus_tax_must_be_the_total_exactly():
    base = submitted()
    assert codes(replace(base, total=base.total + d("0.01"))) == [V.TOTALS_MISMATCH]


def test_however_many_sums_are_off_totals_mismatch_is_reported_once():
    base = submitted(submitted_line(amount=d("999.00")))
    wrong = replace(base, subtotal=d("1.00"), total=d("5.00"))
    assert codes(wrong).count(V.TOTALS_MISMATCH) == 1


@pytest.mark.parametrize(
    ("treatment", "rate", "tax", "expected"),
    [
        (TaxTreatment.EXEMPT, "0", "0.00", []),
        (TaxTreatment.EXEMPT, "0", "0.01", [V.TAX_MISMATCH]),  # exempt means none at all
        (TaxTreatment.STANDARD, "0.0825", "82.50", []),  # 8.25 % of 1000.00
        (TaxTreatment.STANDARD, "0.0825", "82.51", []),  # within 0.01
        (TaxTreatment.STANDARD, "0.0825", "82.49", []),
        (TaxTreatment.STANDARD, "0.0825", "82.52", [V.TAX_MISMATCH]),
        (TaxTreatment.STANDARD, "0.0825", "0.00", [V.TAX_MISMATCH]),
        (TaxTreatment.STANDARD, "0.0725", "72.50", []),
    ],
)
def test_tax_is_what_the_suppliers_treatment_says(treatment, rate, tax, expected):
    facts = replace(GOOD, supplier=supplier(tax_treatment=treatment, tax_rate=d(rate)))
    assert codes(submitted(tax=tax), facts) == expected


@pytest.mark.parametrize(("tax", "expected"), [("0.84", []), ("0.81", [V.TAX_MISMATCH])])
def test_standard_tax_rounds_half_up(tax, expected):
    # 8.25 % of 10.00 is 0.825: half-up makes it 0.83 (half-even would make it 0.82)
    assert codes(submitted(submitted_line(1, "10.00"), tax=tax)) == expected


def test_a_blocked_supplier_is_still_known_so_its_tax_is_checked():
    facts = replace(GOOD, supplier=supplier(status=SupplierStatus.BLOCKED))
    assert codes(submitted(tax="0.00"), facts) == [V.SUPPLIER_BLOCKED, V.TAX_MISMATCH]


def test_an_unknown_suppliers_tax_is_not_checked():
    assert codes(submitted(tax="0.00"), replace(GOOD, supplier=None)) == [V.SUPPLIER_UNKNOWN]


# --- duplicates -----------------------------------------------------------------------------


def on_file(*invoices):
    return replace(GOOD, invoices_on_file=list(invoices))


@pytest.mark.parametrize("number", ["A-2001", " a-2001 ", "A-2001\t", "a-2001"])
def test_the_same_invoice_number_after_trimming_and_case_folding_is_a_duplicate(number):
    earlier = invoice(1, supplier_invoice_number=number, total=d("1.00"))
    assert codes(facts=on_file(earlier)) == [V.DUPLICATE_INVOICE]


@pytest.mark.parametrize(
    ("days_apart", "duplicate"),
    [(0, True), (7, True), (-7, True), (8, False), (-8, False)],
)
def test_the_same_currency_and_total_within_the_window_is_a_duplicate(days_apart, duplicate):
    bill = submitted()
    earlier = invoice(
        1,
        supplier_invoice_number="A-1999",
        total=bill.total,
        invoice_date=INVOICE_DATE + timedelta(days=days_apart),
        purchase_order_id="PO-2026-000777",  # on any PO
    )
    assert (codes(bill, on_file(earlier)) == [V.DUPLICATE_INVOICE]) is duplicate


def test_the_window_is_policy():
    bill = submitted()
    earlier = invoice(1, supplier_invoice_number="A-1999", total=bill.total)
    assert (
        codes(
            bill, on_file(replace(earlier, invoice_date=INVOICE_DATE - timedelta(days=1))), window=0
        )
        == []
    )
    assert codes(bill, on_file(earlier), window=0) == [V.DUPLICATE_INVOICE]


@pytest.mark.parametrize(
    "earlier",
    [
        invoice(1, supplier_invoice_number="A-2001", status=InvoiceStatus.REJECTED),
        invoice(1, supplier_invoice_number="A-2001", supplier_id="SUP-000002"),
        invoice(1, supplier_invoice_number="A-1999", total=d("1082.50"), currency="CAD"),
        invoice(1, supplier_invoice_number="A-1999", total=d("1082.51")),
    ],
)
def test_rejected_invoices_other_suppliers_and_other_amounts_are_not_duplicates(earlier):
    # a rejected invoice may be resubmitted, corrected, under the same number
    assert submitted().total == d("1082.50")
    assert codes(facts=on_file(earlier)) == []


def test_a_duplicate_of_several_earlier_invoices_is_reported_once():
    first = invoice(1, supplier_invoice_number="A-2001")
    second = invoice(2, supplier_invoice_number="A-1999", total=submitted().total)
    reasons = validate_invoice(submitted(), on_file(second, first), duplicate_window_days=7)
    assert [r.code for r in reasons] == [V.DUPLICATE_INVOICE]
    assert "INV-00000001" in reasons[0].message  # the earliest one on file


def test_every_failing_check_is_reported_at_once_in_a_stable_order():
    # given an invoice wrong in every way validation can see
    bill = submitted(currency="CAD", tax="0.00")
    bill = replace(bill, total=bill.total + d("1.00"))
    facts = ValidationFacts(
        supplier=supplier(status=SupplierStatus.BLOCKED),
        purchase_order=order(status=PurchaseOrderStatus.CLOSED, supplier_id="SUP-000002"),
        cost_center=cost_center(active=False, facility_id="FAC-0002"),
        invoices_on_file=[invoice(1, supplier_invoice_number="a-2001")],
    )
    # then every reason is there, each once
    assert codes(bill, facts) == [
        V.SUPPLIER_BLOCKED,
        V.PO_CLOSED,
        V.PO_SUPPLIER_MISMATCH,
        V.COST_CENTER_INVALID,
        V.COST_CENTER_FACILITY_MISMATCH,
        V.TAX_MISMATCH,
        V.TOTALS_MISMATCH,
        V.CURRENCY_MISMATCH,
        V.DUPLICATE_INVOICE,
    ]


# --- properties ------------------------------------------------------------------------------

maybe = st.booleans()


@st.composite
def facts_and_invoices(draw):
    bill = submitted(
        currency=draw(st.sampled_from(["USD", "CAD"])),
        tax=draw(st.sampled_from(["82.50", "0.00", "82.52"])),
    )
    if draw(maybe):
        bill = replace(bill, total=bill.total + d("0.01"))
    facts = ValidationFacts(
        supplier=draw(
            st.none()
            | st.builds(
                supplier,
                status=st.sampled_from(list(SupplierStatus)),
                tax_treatment=st.sampled_from(list(TaxTreatment)),
            )
        ),
        purchase_order=draw(
            st.none()
            | st.builds(
                order,
                status=st.sampled_from(list(PurchaseOrderStatus)),
                supplier_id=st.sampled_from(["SUP-000001", "SUP-000002"]),
                facility_id=st.sampled_from(["FAC-0001", "FAC-0002"]),
                currency=st.sampled_from(["USD", "CAD"]),
            )
        ),
        cost_center=draw(
            st.none()
            | st.builds(
                cost_center,
                active=maybe,
                facility_id=st.sampled_from(["FAC-0001", "FAC-0002"]),
            )
        ),
        invoices_on_file=draw(
            st.lists(
                st.builds(
                    invoice,
                    st.integers(min_value=1, max_value=9),
                    supplier_invoice_number=st.sampled_from(["A-2001", "A-1999"]),
                    status=st.sampled_from(list(InvoiceStatus)),
                ),
                max_size=3,
            )
        ),
    )
    return bill, facts


@settings(max_examples=300, deadline=None)
@given(case=facts_and_invoices())
def test_reported_codes_are_unique_and_in_code_order(case):
    bill, facts = case
    found = codes(bill, facts)
    assert len(found) == len(set(found))
    order_of = list(V)
    assert found == sorted(found, key=order_of.index)


@settings(max_examples=300, deadline=None)
@given(case=facts_and_invoices())
def test_po_not_found_is_alone_among_the_po_checks(case):
    bill, facts = case
    found = set(codes(bill, replace(facts, purchase_order=None)))
    assert V.PO_NOT_FOUND in found
    assert not found & PO_CHECKS


@settings(max_examples=300, deadline=None)
@given(case=facts_and_invoices())
def test_an_unknown_supplier_is_never_blocked_nor_tax_checked(case):
    bill, facts = case
    found = set(codes(bill, replace(facts, supplier=None)))
    assert V.SUPPLIER_UNKNOWN in found
    assert not found & {V.SUPPLIER_BLOCKED, V.TAX_MISMATCH}


# --- checked again before posting ----------------------------------------------------------

POSTING = PostingFacts(supplier=supplier(), purchase_order=order(), cost_center=cost_center())


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (POSTING, []),
        (replace(POSTING, supplier=supplier(status=SupplierStatus.BLOCKED)), [V.SUPPLIER_BLOCKED]),
        (replace(POSTING, supplier=supplier(status=SupplierStatus.ON_HOLD)), []),  # bills on
        (replace(POSTING, purchase_order=order(status=PurchaseOrderStatus.CLOSED)), [V.PO_CLOSED]),
        (replace(POSTING, purchase_order=None), [V.PO_NOT_FOUND]),
        (replace(POSTING, cost_center=cost_center(active=False)), [V.COST_CENTER_INVALID]),
        (replace(POSTING, purchase_order=order(currency="EUR")), [V.CURRENCY_MISMATCH]),
    ],
)
def test_the_master_data_an_invoice_rests_on_is_checked_again_before_it_posts(facts, expected):
    reasons = recheck_before_posting(invoice(1, status=InvoiceStatus.EXCEPTION), facts)
    assert [reason.code for reason in reasons] == expected
