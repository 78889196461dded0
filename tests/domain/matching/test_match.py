"""match_invoice: every rule over every line; the union of codes decides EXCEPTION (DESIGN §4)."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apgraph.domain.codes import MatchCode
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.matching.match import BilledInvoice, MatchResult, match_invoice
from apgraph.domain.matching.rules import STRICT, CategoryRules, SourcingDown
from apgraph.domain.matching.tolerance import Tolerance
from apgraph.domain.purchasing import Category
from tests.domain.examples import contract, d, invoice, line, order_line, receipt

M = MatchCode
RULES = {
    Category.MEDICAL_SUPPLIES: CategoryRules(
        quantity=Tolerance(percent=d(2), absolute=d(10)),
        price=Tolerance(percent=d(2), absolute=d("25.00")),
        receipt_required=True,
        sourcing_down=SourcingDown.FLAG,
    ),
    Category.PHARMACY: STRICT,  # no quantity variance; contract pricing mandatory
    Category.CLINICAL_SERVICE: replace(STRICT, receipt_required=False),
}
PHARMACY_LINE = order_line(2, category=Category.PHARMACY, unit_of_measure="VIAL")
THIS = invoice(1, received_at=datetime(2026, 10, 20, 12, 0, tzinfo=UTC))


def run(
    lines=(line(1),),
    *,
    order_lines=(order_line(1),),
    receipts=(receipt(1, 100),),
    billed_before=(),
    contracts=(),
    rules=RULES,
    this=THIS,
) -> MatchResult | None:
    return match_invoice(
        this,
        list(lines),
        order_lines=list(order_lines),
        receipts=None if receipts is None else list(receipts),
        billed_before=list(billed_before),
        contracts=None if contracts is None else list(contracts),
        rules=rules,
    )


def codes_by_line(result):
    found: dict[int, list[MatchCode]] = {}
    for finding in result.findings:
        found.setdefault(finding.line_no, []).append(finding.code)
    return found


def earlier(number, status, *lines, minutes_before=60, **changes):
    other = invoice(
        number,
        status=status,
        received_at=THIS.received_at - timedelta(minutes=minutes_before),
        **changes,
    )
    return BilledInvoice(other, lines)


def test_an_invoice_billing_what_was_received_at_the_po_price_matches_cleanly():
    result = run()
    assert result == MatchResult(())
    assert not result.needs_approval


def test_quantity_billed_beyond_what_was_received_is_an_exception():
    # given 100 ordered and 80 received
    # when 100 are billed
    result = run(receipts=[receipt(1, 80)])
    # then the approver sees a quantity variance, and only that
    assert codes_by_line(result) == {1: [M.QTY_VARIANCE]}
    assert result.needs_approval


def test_a_line_with_no_receipt_is_missing_receipt_not_a_qty_variance():
    result = run(receipts=[])
    assert codes_by_line(result) == {1: [M.MISSING_RECEIPT]}


def test_receipts_add_up_and_only_this_pos_count():
    split = [receipt(1, 60, number=1), receipt(1, 40, number=2)]
    other_po = replace(receipt(1, 500, number=3), purchase_order_id="PO-2026-000999")
    assert run(receipts=split).findings == ()
    assert codes_by_line(run(receipts=[split[0], other_po])) == {1: [M.QTY_VARIANCE]}


@pytest.mark.parametrize(
    ("status", "counts"),
    [
        (InvoiceStatus.RECEIVED, True),
        (InvoiceStatus.VALIDATED, True),
        (InvoiceStatus.EXCEPTION, True),
        (InvoiceStatus.ON_HOLD, True),
        (InvoiceStatus.POSTED, True),
        (InvoiceStatus.PAID, True),
        (InvoiceStatus.REJECTED, False),
    ],
)
def test_quantity_is_cumulative_over_earlier_invoices_that_were_not_rejected(status, counts):
    # given 100 ordered and received, and an earlier invoice that billed 30 of them
    before = earlier(2, status, line(1, 30))
    # when this invoice bills the other 80
    result = run([line(1, 80)], billed_before=[before])
    # then 110 were billed in all, unless the earlier one was rejected
    expected = {1: [M.QTY_VARIANCE, M.OVER_BILLED]} if counts else {1: []}
    assert {1: [], **codes_by_line(result)} == expected


@pytest.mark.parametrize(
    "other",
    [
        earlier(2, InvoiceStatus.POSTED, line(1, 30), minutes_before=-60),  # received later
        earlier(2, InvoiceStatus.POSTED, line(1, 30), purchase_order_id="PO-2026-000999"),
        BilledInvoice(THIS, [line(1, 30)]),  # this very invoice, as the store has it
    ],
)
def test_later_invoices_other_pos_and_the_invoice_itself_do_not_count(other):
    assert run([line(1, 80)], billed_before=[other]).findings == ()


def test_over_billed_is_independent_of_the_qty_variance():
    # given 100 ordered and 100 received, billed 120: over what arrived and over the PO
    both = run([line(1, 120)])
    assert codes_by_line(both) == {1: [M.QTY_VARIANCE, M.OVER_BILLED]}
    # and with a tolerance that covers the receipt, only over the PO
    within = run([line(1, 101)])
    assert codes_by_line(within) == {1: [M.OVER_BILLED]}


def test_missing_receipt_and_over_billed_can_come_together():
    assert codes_by_line(run([line(1, 120)], receipts=[])) == {
        1: [M.MISSING_RECEIPT, M.OVER_BILLED]
    }


def test_a_price_above_the_po_price_beyond_tolerance_is_a_price_variance():
    assert run([line(1, 100, "10.20")]).findings == ()  # 2 %, exactly at tolerance
    assert codes_by_line(run([line(1, 100, "10.21")])) == {1: [M.PRICE_VARIANCE]}


def test_a_price_above_the_contract_of_the_day_is_a_contract_price_variance():
    # given a PO price of 10.00 and a contract price of 9.50 valid on the invoice date
    agreed = contract("9.50")
    # when billed at the PO price
    result = run(contracts=[agreed])
    # then the contract price was not honoured (9.50 + 2 % = 9.69)
    assert codes_by_line(result) == {1: [M.CONTRACT_PRICE_VARIANCE]}
    assert run([line(1, 100, "9.69")], contracts=[agreed]).findings == ()


def test_without_a_contract_valid_on_the_invoice_date_there_is_no_contract_check():
    expired = contract("9.50", valid_to=THIS.invoice_date - timedelta(days=1))
    assert run(contracts=[expired]).findings == ()


def test_while_sourcing_is_down_lines_are_flagged_and_a_flag_does_not_stop_posting():
    result = run(contracts=None)
    assert codes_by_line(result) == {1: [M.CONTRACT_PRICE_UNAVAILABLE]}
    assert result.codes == (M.CONTRACT_PRICE_UNAVAILABLE,)
    assert not result.needs_approval


def test_where_contract_pricing_is_mandatory_sourcing_down_blocks():
    # given a pharmacy line, whose category says `block`
    result = run(
        [line(2, 100)],
        order_lines=[PHARMACY_LINE],
        receipts=[receipt(2, 100)],
        contracts=None,
    )
    assert codes_by_line(result) == {2: [M.CONTRACT_PRICE_UNAVAILABLE]}
    assert result.needs_approval


def test_a_flag_next_to_a_real_finding_is_still_an_exception():
    result = run(receipts=[receipt(1, 80)], contracts=None)
    assert result.codes == (M.QTY_VARIANCE, M.CONTRACT_PRICE_UNAVAILABLE)
    assert result.needs_approval


def test_when_materials_management_is_down_the_match_cannot_run_yet():
    # then nothing is invented: no finding, no verdict
    assert run(receipts=None) is None
    assert run(receipts=None, contracts=None) is None


def test_a_category_without_rules_is_matched_with_no_tolerance():
    facility_ops = order_line(1, category=Category.FACILITY_OPS)
    result = run([line(1, 100, "10.01")], order_lines=[facility_ops])
    assert codes_by_line(result) == {1: [M.PRICE_VARIANCE]}


def test_where_policy_needs_no_receipt_a_service_line_without_one_matches_two_way():
    staffing = order_line(1, category=Category.CLINICAL_SERVICE, unit_of_measure="HR")
    assert run(order_lines=[staffing], receipts=[]).findings == ()
    assert codes_by_line(run([line(1, 101)], order_lines=[staffing], receipts=[])) == {
        1: [M.OVER_BILLED]
    }


def test_two_lines_billing_one_po_line_are_judged_on_their_sum():
    result = run([line(1, 60, po_line_no=1), line(2, 60, po_line_no=1)])
    assert codes_by_line(result) == {
        1: [M.QTY_VARIANCE, M.OVER_BILLED],
        2: [M.QTY_VARIANCE, M.OVER_BILLED],
    }
    assert result.codes == (M.QTY_VARIANCE, M.OVER_BILLED)


def test_every_finding_of_every_line_is_reported():
    # given line 1 short-received and overpriced, line 2 (pharmacy) never received
    result = run(
        [line(1, 100, "11.00"), line(2, 10)],
        order_lines=[order_line(1), PHARMACY_LINE],
        receipts=[receipt(1, 80)],
    )
    assert codes_by_line(result) == {
        1: [M.QTY_VARIANCE, M.PRICE_VARIANCE],
        2: [M.MISSING_RECEIPT],
    }
    assert [f.as_exception().message for f in result.findings] == [
        "billed 100 BX in all, received 80 BX",
        "unit price 11.00 USD, PO price 10.00 USD",
        "no goods receipt for the billed PO line (billed 10 VIAL)",
    ]


def test_figures_read_as_a_person_writes_them_whatever_the_store_kept():
    # given figures as the store returns them, four places each
    result = run(
        [line(1, "31.0000", "10.5000")],
        order_lines=[order_line(1)],
        receipts=[receipt(1, "14.0000")],
    )
    # then quantities lose their trailing zeros and take their unit, prices their currency's
    assert [f.as_exception().message for f in result.findings] == [
        "billed 31 BX in all, received 14 BX",
        "unit price 10.50 USD, PO price 10.00 USD",
    ]


def test_a_non_po_invoice_has_nothing_to_match():
    non_po = replace(THIS, purchase_order_id=None)
    assert run([line(1, po_line_no=None)], order_lines=[], receipts=None, this=non_po) == (
        MatchResult(())
    )


def test_a_line_naming_a_po_line_the_order_lacks_is_a_bug_upstream():
    with pytest.raises(ValueError, match="check_input"):
        run([line(1, po_line_no=7)])


# --- properties ------------------------------------------------------------------------------

CATEGORIES = st.sampled_from([Category.MEDICAL_SUPPLIES, Category.PHARMACY, Category.FACILITY_OPS])
QTY = st.integers(min_value=0, max_value=300).map(Decimal)
PRICE = st.integers(min_value=100, max_value=5000).map(lambda cents: Decimal(cents) / 100)


@st.composite
def scenarios(draw):
    """A PO of 1-4 lines, an invoice billing some of them, receipts, earlier invoices, contracts."""
    count = draw(st.integers(min_value=1, max_value=4))
    ordered = [
        order_line(
            n,
            category=draw(CATEGORIES),
            quantity=draw(QTY) + 1,
            unit_price=draw(PRICE),
        )
        for n in range(1, count + 1)
    ]
    billed = draw(st.lists(st.sampled_from(ordered), min_size=1, max_size=5))
    lines = [
        line(i, draw(QTY) + 1, str(draw(PRICE)), po_line_no=po_line.line_no)
        for i, po_line in enumerate(billed, start=1)
    ]
    receipts = [
        receipt(po_line.line_no, draw(QTY), number=i)
        for i, po_line in enumerate(draw(st.lists(st.sampled_from(ordered), max_size=6)))
    ]
    others = [
        earlier(
            10 + i,
            draw(st.sampled_from(list(InvoiceStatus))),
            line(1, draw(QTY), po_line_no=draw(st.sampled_from(ordered)).line_no),
            minutes_before=draw(st.integers(min_value=-120, max_value=120)),
        )
        for i in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    contracts = draw(
        st.none()
        | st.lists(
            st.builds(
                lambda po_line, price: contract(str(price), item_id=po_line.item_id),
                st.sampled_from(ordered),
                PRICE,
            ),
            max_size=3,
        )
    )
    return lines, ordered, receipts, others, contracts


PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_matching_is_independent_of_the_order_of_lines_receipts_and_invoices(scenario, data):
    lines, ordered, receipts, others, contracts = scenario
    first = run(
        lines, order_lines=ordered, receipts=receipts, billed_before=others, contracts=contracts
    )
    shuffled = run(
        data.draw(st.permutations(lines)),
        order_lines=data.draw(st.permutations(ordered)),
        receipts=data.draw(st.permutations(receipts)),
        billed_before=data.draw(st.permutations(others)),
        contracts=None if contracts is None else data.draw(st.permutations(contracts)),
    )
    assert shuffled == first


@PROPERTY
@given(scenario=scenarios())
def test_each_code_is_reported_once_per_line_and_once_per_invoice(scenario):
    lines, ordered, receipts, others, contracts = scenario
    result = run(
        lines, order_lines=ordered, receipts=receipts, billed_before=others, contracts=contracts
    )
    per_line = [(f.line_no, f.code) for f in result.findings]
    assert len(per_line) == len(set(per_line))
    assert len(result.codes) == len(set(result.codes))
    assert set(result.codes) == {f.code for f in result.findings}
    assert result.needs_approval == any(
        f.code is not M.CONTRACT_PRICE_UNAVAILABLE or f.blocking for f in result.findings
    )


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_billing_no_more_than_received_at_no_more_than_agreed_never_finds_anything(scenario, data):
    # given every PO line fully received, with a contract at the PO price or dearer
    _, ordered, _, _, _ = scenario
    receipts = [receipt(po_line.line_no, po_line.quantity) for po_line in ordered]
    contracts = [contract(str(p.unit_price + 1), item_id=p.item_id) for p in ordered]
    # when each line is billed once, at most as received and at most at the PO price
    lines = []
    for i, po_line in enumerate(ordered, start=1):
        quantity = data.draw(st.decimals(min_value=0, max_value=po_line.quantity, places=0))
        price = data.draw(st.decimals(min_value=0, max_value=po_line.unit_price, places=2))
        lines.append(line(i, quantity, str(price), po_line_no=po_line.line_no))
    # then there is nothing for an approver to look at
    result = run(lines, order_lines=ordered, receipts=receipts, contracts=contracts)
    assert result.findings == ()


def test_the_invoice_date_picks_the_contract():
    on_the_day = contract("9.00", valid_from=date(2026, 10, 20), valid_to=date(2026, 10, 20))
    assert codes_by_line(run(contracts=[on_the_day])) == {1: [M.CONTRACT_PRICE_VARIANCE]}
    assert run(contracts=[on_the_day], this=replace(THIS, invoice_date=date(2026, 10, 21))) == (
        MatchResult(())
    )
