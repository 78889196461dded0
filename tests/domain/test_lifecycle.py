"""The invoice state machine of DESIGN §4: transitions, their events, and what they refuse."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apgraph.demo import generator
from apgraph.domain import lifecycle
from apgraph.domain.approvals import (
    ApprovalLevel,
    ApprovalRoute,
    ApprovalRules,
    approved_by,
    route_exception,
)
from apgraph.domain.codes import MatchCode, ProblemCode, ValidationCode
from apgraph.domain.event_payloads import EVENT_TYPES
from apgraph.domain.events import (
    InvoiceApprovalCompleted,
    InvoiceHeld,
    InvoiceMatched,
    InvoiceMatchFailed,
    InvoicePosted,
    InvoicePostingFailed,
    InvoiceReceived,
    InvoiceRejected,
    InvoiceReleased,
    InvoiceValidated,
    PaymentReleased,
    PaymentScheduled,
    RemittanceSent,
)
from apgraph.domain.ids import InvoiceId, PaymentId
from apgraph.domain.invoices import (
    ApprovalDecision,
    ApprovalStatus,
    InvoiceStatus,
    approval_status,
)
from apgraph.domain.master_data import Reason
from apgraph.domain.matching.findings import Finding
from apgraph.domain.matching.match import MatchResult
from apgraph.domain.problems import DomainError
from apgraph.domain.suppliers import PaymentTerms
from tests.domain.examples import NOW, SUBMITTER, cost_center, d, invoice, submitted

S = InvoiceStatus
ALICE, BOB, CAROL = "approver.fac-0001", "approver2.fac-0001", "finance.admin"
ONE = ApprovalRoute(ApprovalLevel.COST_CENTER, (ALICE, BOB), 1, None)
TWO = replace(ONE, approvals_needed=2)
PAYMENT = PaymentId("PAY-00000001")
LATER = NOW + timedelta(hours=1)

# DESIGN §4, edge by edge, as the diagram draws it.
DIAGRAM = {
    (None, S.RECEIVED),
    (S.RECEIVED, S.VALIDATED),
    (S.RECEIVED, S.REJECTED),
    (S.VALIDATED, S.MATCHED),
    (S.MATCHED, S.POSTED),
    (S.MATCHED, S.EXCEPTION),
    (S.EXCEPTION, S.POSTED),
    (S.EXCEPTION, S.REJECTED),
    (S.EXCEPTION, S.ON_HOLD),
    (S.ON_HOLD, S.EXCEPTION),
    (S.POSTED, S.POSTING_FAILED),
    (S.POSTING_FAILED, S.POSTED),
    (S.POSTED, S.SCHEDULED),
    (S.SCHEDULED, S.PAID),
    (S.PAID, S.REMITTED),
}
QTY = Finding(MatchCode.QTY_VARIANCE, 1, expected=d(80), actual=d(100))
FLAG = Finding(MatchCode.CONTRACT_PRICE_UNAVAILABLE, 1, d("10.00"), d("10.00"), blocking=False)


def at(status, **changes):
    return invoice(status=status, **changes)


def refused(code, call, *args, **kwargs):
    with pytest.raises(DomainError) as error:
        call(*args, **kwargs)
    assert error.value.problem.code is code
    return error.value.problem


def test_the_machine_is_the_design_diagram():
    assert lifecycle.EDGES == DIAGRAM


# --- receiving, validating, matching ---------------------------------------------------------


def test_a_received_invoice_is_due_after_the_suppliers_terms():
    change = lifecycle.receive(
        submitted(),
        invoice_id=InvoiceId("INV-00000042"),
        submitted_by=SUBMITTER,
        payment_terms=PaymentTerms.NET45,
        at=NOW,
    )
    received = change.invoice
    assert (received.status, received.received_at, received.submitted_by) == (
        S.RECEIVED,
        NOW,
        SUBMITTER,
    )
    assert received.due_date == received.invoice_date + timedelta(days=45)
    assert change.steps == ((None, S.RECEIVED),)
    assert change.events == (
        InvoiceReceived("INV-00000042", "SUP-000001", "FAC-0001", NOW, "A-2001"),
    )
    assert change.events[0].type == "invoice.received"


def test_an_invoice_of_an_unknown_supplier_is_due_on_its_date():
    change = lifecycle.receive(
        submitted(), invoice_id="INV-00000042", submitted_by=SUBMITTER, payment_terms=None, at=NOW
    )
    assert change.invoice.due_date == change.invoice.invoice_date


def test_a_valid_invoice_is_validated():
    change = lifecycle.validate(at(S.RECEIVED), [], at=NOW)
    assert change.invoice.status is S.VALIDATED
    assert [type(e) for e in change.events] == [InvoiceValidated]


def test_an_invalid_invoice_is_rejected_with_every_code():
    reasons = [
        Reason(ValidationCode.PO_CLOSED, "PO-2026-000001 is closed"),
        Reason(ValidationCode.TAX_MISMATCH, "tax 0.00"),
    ]
    change = lifecycle.validate(at(S.RECEIVED), reasons, at=NOW)
    assert change.invoice.status is S.REJECTED
    (rejected,) = change.events
    assert isinstance(rejected, InvoiceRejected)
    assert rejected.codes == ("PO_CLOSED", "TAX_MISMATCH")
    assert rejected.rejected_by == lifecycle.VALIDATION_ACTOR
    assert [(r.code, r.line_no) for r in change.reasons] == [
        ("PO_CLOSED", None),
        ("TAX_MISMATCH", None),
    ]


def test_a_clean_match_is_matched_and_waits_for_posting():
    change = lifecycle.match(at(S.VALIDATED), MatchResult(()), at=NOW)
    assert (change.invoice.status, change.reasons) == (S.MATCHED, ())
    assert change.events == (InvoiceMatched("INV-00000001", "SUP-000001", "FAC-0001", NOW, ()),)


def test_a_match_with_findings_passes_matched_on_its_way_to_exception():
    change = lifecycle.match(at(S.VALIDATED), MatchResult((QTY, FLAG)), at=NOW)
    assert change.steps == ((S.VALIDATED, S.MATCHED), (S.MATCHED, S.EXCEPTION))
    matched, failed = change.events  # one event per status entered
    assert (matched.type, matched.flags) == ("invoice.matched", ("CONTRACT_PRICE_UNAVAILABLE",))
    assert isinstance(failed, InvoiceMatchFailed)
    assert failed.codes == ("QTY_VARIANCE", "CONTRACT_PRICE_UNAVAILABLE")
    assert [(r.code, r.line_no) for r in change.reasons] == [
        ("QTY_VARIANCE", 1),
        ("CONTRACT_PRICE_UNAVAILABLE", 1),
    ]


def test_a_flag_alone_is_matched_and_kept_on_the_invoice():
    change = lifecycle.match(at(S.VALIDATED), MatchResult((FLAG,)), at=NOW)
    assert change.invoice.status is S.MATCHED
    assert [e.flags for e in change.events] == [("CONTRACT_PRICE_UNAVAILABLE",)]
    assert [r.code for r in change.reasons] == ["CONTRACT_PRICE_UNAVAILABLE"]


# --- posting -------------------------------------------------------------------------------


def test_a_matched_invoice_is_posted_with_the_erp_document():
    change = lifecycle.post(at(S.MATCHED), erp_document_ref="LEG-5100001", at=NOW)
    assert (change.invoice.status, change.invoice.erp_document_ref) == (S.POSTED, "LEG-5100001")
    assert change.events == (
        InvoicePosted("INV-00000001", "SUP-000001", "FAC-0001", NOW, "LEG-5100001"),
    )


def test_a_posting_that_failed_past_retries_goes_through_posted_to_posting_failed():
    change = lifecycle.fail_posting(at(S.MATCHED), reason="ERP unavailable", at=NOW)
    assert change.steps == ((S.MATCHED, S.POSTED), (S.POSTED, S.POSTING_FAILED))
    assert change.invoice.erp_document_ref is None
    assert [type(e) for e in change.events] == [InvoicePostingFailed]


def test_a_replay_posts_a_failed_posting_and_a_failed_replay_leaves_it_failed():
    failed = at(S.POSTING_FAILED)
    posted = lifecycle.retry_posting(failed, erp_document_ref="CLD-9000001", at=NOW)
    assert posted.steps == ((S.POSTING_FAILED, S.POSTED),)
    again = lifecycle.fail_posting(failed, reason="still down", at=NOW)
    assert (again.invoice, again.path) == (failed, ())
    assert [type(e) for e in again.events] == [InvoicePostingFailed]


def test_retry_posting_is_only_for_failed_postings():
    refused(
        ProblemCode.ILLEGAL_TRANSITION,
        lifecycle.retry_posting,
        at(S.MATCHED),
        erp_document_ref="LEG-1",
        at=NOW,
    )


def test_an_erp_document_reference_is_required():
    with pytest.raises(ValueError, match="document reference"):
        lifecycle.post(at(S.MATCHED), erp_document_ref=" ", at=NOW)


# --- approvals -----------------------------------------------------------------------------


def approve(invoice_now, who, route=ONE, decisions=()):
    return lifecycle.approve(invoice_now, approver=who, at=NOW, route=route, decisions=decisions)


def test_one_approval_completes_an_exception_below_the_threshold_and_it_posts():
    exception = at(S.EXCEPTION)
    change = approve(exception, ALICE)
    assert change.invoice is exception  # still EXCEPTION until posted
    assert change.decision.decision is ApprovalDecision.APPROVED
    assert change.events == (
        InvoiceApprovalCompleted("INV-00000001", "SUP-000001", "FAC-0001", NOW, (ALICE,)),
    )
    posted = lifecycle.post(
        exception, erp_document_ref="LEG-1", at=LATER, route=ONE, decisions=[change.decision]
    )
    assert posted.steps == ((S.EXCEPTION, S.POSTED),)


def test_the_submitter_can_never_approve():
    clerk = at(S.EXCEPTION, submitted_by=ALICE)
    refused(ProblemCode.SUBMITTER_CANNOT_APPROVE, approve, clerk, ALICE)


def test_only_an_approver_the_route_allows_may_approve():
    problem = refused(ProblemCode.APPROVER_NOT_ALLOWED, approve, at(S.EXCEPTION), CAROL)
    assert "finance.admin" in problem.message


def test_above_the_threshold_the_first_approval_is_recorded_and_a_second_approver_is_needed():
    exception = at(S.EXCEPTION)
    # when Alice approves
    first = approve(exception, ALICE, TWO)
    # then it stays in EXCEPTION, nothing completed, and it cannot post yet
    assert (first.invoice.status, first.events) == (S.EXCEPTION, ())
    decisions = [first.decision]
    refused(
        ProblemCode.SECOND_APPROVER_REQUIRED,
        lifecycle.post,
        exception,
        erp_document_ref="LEG-1",
        at=NOW,
        route=TWO,
        decisions=decisions,
    )
    # and Alice cannot be the second approver
    refused(ProblemCode.ALREADY_APPROVED_BY_YOU, approve, exception, ALICE, TWO, decisions)
    # when Bob approves
    second = approve(exception, BOB, TWO, decisions)
    assert [type(e) for e in second.events] == [InvoiceApprovalCompleted]
    assert second.events[0].approvers == (ALICE, BOB)
    decisions.append(second.decision)
    # then it posts, and a third approval is not needed
    assert (
        lifecycle.post(
            exception, erp_document_ref="LEG-1", at=NOW, route=TWO, decisions=decisions
        ).invoice.status
        is S.POSTED
    )
    refused(ProblemCode.POSTING_IN_PROGRESS, approve, exception, CAROL, TWO, decisions)


@pytest.mark.parametrize("command", [lifecycle.reject, lifecycle.hold])
def test_once_approvals_are_complete_no_decision_overtakes_the_posting(command):
    # given an exception whose one needed approval is committed: the ERP may be booking it
    exception = at(S.EXCEPTION)
    decisions = [approve(exception, ALICE).decision]
    # then Bob can neither reject nor hold it on the way
    refused(
        ProblemCode.POSTING_IN_PROGRESS,
        command,
        exception,
        by=BOB,
        reason="second thoughts",
        at=NOW,
        route=ONE,
        decisions=decisions,
    )
    # but while a second approver is still needed, he can
    assert command(
        exception, by=BOB, reason="call the supplier", at=NOW, route=TWO, decisions=decisions
    ).invoice.status in (S.REJECTED, S.ON_HOLD)


@pytest.mark.parametrize("route", [None, ONE])
def test_an_exception_without_approval_does_not_post(route):
    refused(
        ProblemCode.APPROVAL_REQUIRED,
        lifecycle.post,
        at(S.EXCEPTION),
        erp_document_ref="LEG-1",
        at=NOW,
        route=route,
    )
    refused(
        ProblemCode.APPROVAL_REQUIRED,
        lifecycle.fail_posting,
        at(S.EXCEPTION),
        reason="down",
        at=NOW,
        route=route,
    )


def test_an_approval_of_another_invoice_or_by_the_submitter_does_not_count():
    exception = at(S.EXCEPTION)
    elsewhere = approve(at(S.EXCEPTION, id="INV-00000002"), ALICE).decision
    own = replace(approve(exception, ALICE).decision, approver=SUBMITTER)
    refused(
        ProblemCode.APPROVAL_REQUIRED,
        lifecycle.check_postable,
        exception,
        route=ONE,
        decisions=[elsewhere, own],
    )


def test_an_approved_exception_whose_posting_fails_goes_to_posting_failed():
    exception = at(S.EXCEPTION)
    decisions = [approve(exception, ALICE).decision]
    change = lifecycle.fail_posting(
        exception, reason="down", at=NOW, route=ONE, decisions=decisions
    )
    assert change.steps == ((S.EXCEPTION, S.POSTED), (S.POSTED, S.POSTING_FAILED))


def test_an_approver_rejects_with_a_reason_the_supplier_reads():
    change = lifecycle.reject(
        at(S.EXCEPTION), by=ALICE, reason=" Goods never arrived ", at=NOW, route=ONE
    )
    assert change.invoice.status is S.REJECTED
    (rejected,) = change.events
    assert (rejected.codes, rejected.reason, rejected.rejected_by) == (
        (),
        "Goods never arrived",
        ALICE,
    )
    assert (change.decision.decision, change.decision.note) == (
        ApprovalDecision.REJECTED,
        "Goods never arrived",
    )


@pytest.mark.parametrize("command", [lifecycle.reject, lifecycle.hold])
def test_rejecting_or_holding_needs_a_reason(command):
    refused(
        ProblemCode.REASON_REQUIRED,
        command,
        at(S.EXCEPTION),
        by=ALICE,
        reason="  ",
        at=NOW,
        route=ONE,
    )


def test_hold_and_release_keep_the_exception_and_its_approvals():
    exception = at(S.EXCEPTION)
    first = approve(exception, ALICE, TWO)
    held = lifecycle.hold(
        exception, by=BOB, reason="Waiting for the packing slip", at=NOW, route=TWO
    )
    assert held.invoice.status is S.ON_HOLD
    assert held.events == (
        InvoiceHeld(
            "INV-00000001", "SUP-000001", "FAC-0001", NOW, BOB, "Waiting for the packing slip"
        ),
    )
    assert held.decision.decision is ApprovalDecision.HELD
    released = lifecycle.release(held.invoice, by=BOB, at=LATER, route=TWO)
    assert released.invoice.status is S.EXCEPTION
    assert released.events == (
        InvoiceReleased("INV-00000001", "SUP-000001", "FAC-0001", LATER, BOB),
    )
    assert released.decision.decision is ApprovalDecision.RELEASED
    decisions = [first.decision, held.decision, released.decision]
    second = approve(released.invoice, BOB, TWO, decisions)
    assert second.events[0].approvers == (ALICE, BOB)


def test_an_exception_is_reassigned_to_another_allowed_approver():
    change = lifecycle.reassign(at(S.EXCEPTION), by=ALICE, to=BOB, at=NOW, route=ONE)
    assert (change.invoice.status, change.path, change.events) == (S.EXCEPTION, (), ())
    assert (change.assignment.assignee, change.assignment.assigned_by) == (BOB, ALICE)


@pytest.mark.parametrize(
    ("by", "to", "code"),
    [
        (ALICE, CAROL, ProblemCode.APPROVER_NOT_ALLOWED),
        (CAROL, ALICE, ProblemCode.APPROVER_NOT_ALLOWED),
        (ALICE, SUBMITTER, ProblemCode.SUBMITTER_CANNOT_APPROVE),
    ],
)
def test_an_exception_is_never_reassigned_to_someone_who_may_not_approve_it(by, to, code):
    refused(code, lifecycle.reassign, at(S.EXCEPTION), by=by, to=to, at=NOW, route=ONE)


def test_a_supervisor_off_the_route_dispatches_but_never_to_someone_off_it():
    change = lifecycle.reassign(
        at(S.EXCEPTION), by=CAROL, to=BOB, at=NOW, route=ONE, reason=" leave ", supervisor=True
    )
    assert (change.assignment.assigned_by, change.assignment.reason) == (CAROL, "leave")
    refused(
        ProblemCode.APPROVER_NOT_ALLOWED,
        lifecycle.reassign,
        at(S.EXCEPTION),
        by=CAROL,
        to="stranger",
        at=NOW,
        route=ONE,
        supervisor=True,
    )
    refused(
        ProblemCode.SUBMITTER_CANNOT_APPROVE,
        lifecycle.reassign,
        at(S.EXCEPTION),
        by=SUBMITTER,
        to=BOB,
        at=NOW,
        route=ONE,
        supervisor=True,
    )


# --- payment -------------------------------------------------------------------------------


def test_a_posted_invoice_is_scheduled_paid_and_remitted():
    posted = at(S.POSTED, erp_document_ref="LEG-1")
    scheduled = lifecycle.schedule(
        posted,
        payment_id=PAYMENT,
        scheduled_date=NOW.date(),
        at=NOW,
    )
    paid = lifecycle.pay(scheduled.invoice, payment_id=PAYMENT, at=NOW)
    remitted = lifecycle.remit(
        paid.invoice, payment_id=PAYMENT, remittance_ref="071000010000001", at=NOW
    )
    assert remitted.invoice.status is S.REMITTED
    assert [e.type for c in (scheduled, paid, remitted) for e in c.events] == [
        "payment.scheduled",
        "payment.released",
        "remittance.sent",
    ]
    assert isinstance(scheduled.events[0], PaymentScheduled)
    assert isinstance(paid.events[0], PaymentReleased)
    assert isinstance(remitted.events[0], RemittanceSent)


# --- what is refused -------------------------------------------------------------------------

COMMANDS = {
    "validate": lambda i: lifecycle.validate(i, [], at=NOW),
    "match": lambda i: lifecycle.match(i, MatchResult(()), at=NOW),
    "post": lambda i: lifecycle.post(i, erp_document_ref="LEG-1", at=NOW, route=ONE),
    "retry": lambda i: lifecycle.retry_posting(i, erp_document_ref="LEG-1", at=NOW),
    "approve": lambda i: approve(i, ALICE),
    "reject": lambda i: lifecycle.reject(i, by=ALICE, reason="no", at=NOW, route=ONE),
    "hold": lambda i: lifecycle.hold(i, by=ALICE, reason="wait", at=NOW, route=ONE),
    "release": lambda i: lifecycle.release(i, by=ALICE, at=NOW, route=ONE),
    "reassign": lambda i: lifecycle.reassign(i, by=ALICE, to=BOB, at=NOW, route=ONE),
    "schedule": lambda i: lifecycle.schedule(
        i,
        payment_id=PAYMENT,
        scheduled_date=NOW.date(),
        at=NOW,
    ),
    "pay": lambda i: lifecycle.pay(i, payment_id=PAYMENT, at=NOW),
    "remit": lambda i: lifecycle.remit(i, payment_id=PAYMENT, remittance_ref="R-1", at=NOW),
}
ALLOWED_FROM = {
    "validate": {S.RECEIVED},
    "match": {S.VALIDATED},
    "post": {S.MATCHED},  # and an approved EXCEPTION, tested above
    "retry": {S.POSTING_FAILED},
    "approve": {S.EXCEPTION},
    "reject": {S.EXCEPTION},
    "hold": {S.EXCEPTION},
    "release": {S.ON_HOLD},
    "reassign": {S.EXCEPTION},
    "schedule": {S.POSTED},
    "pay": {S.SCHEDULED},
    "remit": {S.PAID},
}


@pytest.mark.parametrize(
    ("command", "status"),
    [(c, s) for c in COMMANDS for s in S if s not in ALLOWED_FROM[c]],
)
def test_a_command_the_status_does_not_allow_is_an_illegal_transition(command, status):
    expected = ProblemCode.ILLEGAL_TRANSITION
    if command == "post" and status is S.EXCEPTION:
        expected = ProblemCode.APPROVAL_REQUIRED  # legal once approved
    refused(expected, COMMANDS[command], at(status))


def test_the_clock_is_aware_utc():
    with pytest.raises(ValueError, match="aware"):
        lifecycle.validate(at(S.RECEIVED), [], at=datetime(2026, 10, 21, 15, 0))


def test_every_event_type_is_one_of_design_section_5_or_issue_18():
    # DESIGN §5 lists the failures and milestones; issue 18 adds one event per status change
    assert set(EVENT_TYPES) == {
        "invoice.received",
        "invoice.validated",
        "invoice.rejected",
        "invoice.matched",
        "invoice.match_failed",
        "invoice.approval_completed",
        "invoice.held",
        "invoice.released",
        "invoice.escalated",
        "invoice.posted",
        "invoice.posting_failed",
        "payment.scheduled",
        "payment.released",
        "remittance.sent",
    }


# --- any sequence of commands ---------------------------------------------------------------

# Hypothesis favours the first choices, so the first ones lead deeper into the diagram.
PEOPLE = st.sampled_from([ALICE, BOB, CAROL, "finance.controller", SUBMITTER, "stranger"])
MOSTLY = st.sampled_from([True, True, True, False])
RULES = ApprovalRules(
    two_approvers_above=d("25000.00"),
    escalate_above=d("100000.00"),
    escalate_after=timedelta(hours=48),
    escalation_approvers=(CAROL, "finance.controller"),
)
ARGUMENTS = {
    "validate": st.tuples(MOSTLY),
    "match": st.tuples(st.sampled_from(["clean", "finding", "finding", "flag"])),
    "post": st.tuples(MOSTLY),
    "retry": st.tuples(MOSTLY),
    "approve": st.tuples(PEOPLE),
    "reject": st.tuples(PEOPLE),
    "hold": st.tuples(PEOPLE),
    "release": st.tuples(PEOPLE),
    "reassign": st.tuples(PEOPLE, PEOPLE),
    "schedule": st.tuples(),
    "pay": st.tuples(),
    "remit": st.tuples(),
    "wait": st.tuples(st.integers(min_value=1, max_value=72)),
}
# What someone would plausibly try next, so that deep paths get explored; any other command,
# legal or not, is drawn one time in four.
PLAUSIBLE = {
    S.RECEIVED: ["validate"],
    S.VALIDATED: ["match"],
    S.MATCHED: ["post"],
    S.EXCEPTION: ["approve", "approve", "approve", "post", "post", "reject", "hold", "wait"],
    S.ON_HOLD: ["release"],
    S.POSTED: ["schedule"],
    S.POSTING_FAILED: ["retry"],
    S.SCHEDULED: ["pay"],
    S.PAID: ["remit"],
    S.REJECTED: ["approve"],
    S.REMITTED: ["post"],
}


@st.composite
def next_command(draw, status):
    plausible = draw(st.integers(min_value=0, max_value=3)) < 3
    name = draw(st.sampled_from(PLAUSIBLE[status] if plausible else sorted(ARGUMENTS)))
    return (name, *draw(ARGUMENTS[name]))


POSTED_OR_LATER = {S.POSTED, S.POSTING_FAILED, S.SCHEDULED, S.PAID, S.REMITTED}
RESULTS = {"clean": MatchResult(()), "finding": MatchResult((QTY,)), "flag": MatchResult((FLAG,))}


def step(invoice_now, decisions, command, now):
    name, *args = command
    route = route_exception(invoice_now, cost_center(), RULES, waiting_since=NOW, now=now)
    match name:
        case "validate":
            reasons = [] if args[0] else [Reason(ValidationCode.TAX_MISMATCH, "tax")]
            return lifecycle.validate(invoice_now, reasons, at=now)
        case "match":
            return lifecycle.match(invoice_now, RESULTS[args[0]], at=now)
        case "post" | "retry" if args[0]:
            if name == "retry":
                return lifecycle.retry_posting(invoice_now, erp_document_ref="LEG-1", at=now)
            return lifecycle.post(
                invoice_now, erp_document_ref="LEG-1", at=now, route=route, decisions=decisions
            )
        case "post" | "retry":
            return lifecycle.fail_posting(
                invoice_now, reason="down", at=now, route=route, decisions=decisions
            )
        case "approve":
            return lifecycle.approve(
                invoice_now, approver=args[0], at=now, route=route, decisions=decisions
            )
        case "reject" | "hold":
            command_of = lifecycle.reject if name == "reject" else lifecycle.hold
            return command_of(
                invoice_now, by=args[0], reason="why", at=now, route=route, decisions=decisions
            )
        case "release":
            return lifecycle.release(invoice_now, by=args[0], at=now, route=route)
        case "reassign":
            return lifecycle.reassign(invoice_now, by=args[0], to=args[1], at=now, route=route)
        case "schedule":
            return lifecycle.schedule(
                invoice_now,
                payment_id=PAYMENT,
                scheduled_date=now.date(),
                at=now,
            )
        case "pay":
            return lifecycle.pay(invoice_now, payment_id=PAYMENT, at=now)
        case "remit":
            return lifecycle.remit(invoice_now, payment_id=PAYMENT, remittance_ref="R-1", at=now)
    raise AssertionError(name)


@settings(max_examples=400, deadline=None)
@given(
    total=st.sampled_from([d("1082.50"), d("30000.00"), d("250000.00")]),
    length=st.integers(min_value=0, max_value=25),
    data=st.data(),
)
def test_any_sequence_of_commands_stays_on_the_diagram_and_respects_segregation_of_duties(
    total, length, data
):
    change = lifecycle.receive(
        replace(submitted(), total=total),
        invoice_id="INV-00000001",
        submitted_by=SUBMITTER,
        payment_terms=PaymentTerms.NET30,
        at=NOW,
    )
    current, decisions, visited, now = change.invoice, [], {S.RECEIVED}, NOW
    for _ in range(length):
        command = data.draw(next_command(current.status))
        if command[0] == "wait":
            now += timedelta(hours=command[1])
            continue
        try:
            change = step(current, decisions, command, now)
        except DomainError:
            continue  # a refusal changes nothing: `current` is what it was
        # every step is an edge of the diagram
        assert set(change.steps) <= DIAGRAM
        # and every status entered has its event, in order; a failed posting passes POSTED
        # only on its way to POSTING_FAILED (DESIGN §4), which books nothing
        if change.path:
            entered = [
                status
                for status in change.path
                if not (status is S.POSTED and change.events[-1].status is S.POSTING_FAILED)
            ]
            assert [e.status for e in change.events] == entered
        # and no decision overtakes a posting under way
        if command[0] in ("reject", "hold"):
            approved = approved_by(decisions, invoice=current)
            assert len(approved) < RULES.approvals_needed(total)
        assert change.before is current.status
        current = change.invoice
        visited.update(change.path)
        if change.decision is not None:
            decisions.append(change.decision)

    approvals = approved_by(decisions, invoice=current)
    assert all(
        d.approver != SUBMITTER for d in decisions if d.decision is ApprovalDecision.APPROVED
    )
    posted = current.status in POSTED_OR_LATER
    if posted and S.EXCEPTION in visited:
        assert len(approvals) >= RULES.approvals_needed(total)
    if current.status in {S.POSTED, S.SCHEDULED, S.PAID, S.REMITTED}:
        assert current.erp_document_ref == "LEG-1"
    # the approval status shown to users agrees with the machine
    shown = approval_status(current.status, [d.decision for d in decisions])
    if current.status is S.EXCEPTION:
        assert shown is ApprovalStatus.PENDING
    elif posted:
        assert shown is (
            ApprovalStatus.APPROVED if S.EXCEPTION in visited else ApprovalStatus.NOT_REQUIRED
        )
    elif current.status is S.REJECTED:
        assert shown is (
            ApprovalStatus.REJECTED if S.EXCEPTION in visited else ApprovalStatus.NOT_REQUIRED
        )


def test_the_demo_networks_histories_walk_the_machine_and_respect_its_rules():
    # given the seeded demo network, whose histories were written without this module
    network = generator.generate(generator.DemoSize().scaled(0.05))
    decisions, visited = {}, {}
    for approval in network.approvals:
        decisions.setdefault(approval.invoice_id, []).append(approval)
    for change in network.status_changes:
        visited.setdefault(change.invoice_id, set()).add(change.to_status)
    terms = {supplier.id: supplier.payment_terms for supplier in network.suppliers}
    # then every step is an edge of the machine
    assert {(c.from_status, c.to_status) for c in network.status_changes} <= lifecycle.EDGES
    for bill in network.invoices:
        given = decisions.get(bill.id, [])
        shown = approval_status(bill.status, [a.decision for a in given])
        # an exception that was posted was approved, never by its submitter
        if bill.status in POSTED_OR_LATER and S.EXCEPTION in visited[bill.id]:
            assert shown is ApprovalStatus.APPROVED
            assert approved_by(given, invoice=bill)
        assert all(a.approver != bill.submitted_by for a in given)
        assert bill.due_date == terms[bill.supplier_id].due_date(bill.invoice_date)
    recorded = {found.code for _, found in network.invoice_exceptions}
    assert recorded <= {c.value for c in MatchCode} | {c.value for c in ValidationCode}


@pytest.mark.parametrize(
    ("status", "path"),
    [
        (InvoiceStatus.EXCEPTION, (InvoiceStatus.REJECTED,)),
        (InvoiceStatus.MATCHED, (InvoiceStatus.EXCEPTION, InvoiceStatus.REJECTED)),
    ],
)
def test_a_posting_refused_by_the_facts_rejects_with_the_validation_codes(status, path):
    blocked = Reason(ValidationCode.SUPPLIER_BLOCKED, "SUP-000001 is blocked")
    refused = lifecycle.refuse_posting(invoice(1, status=status), [blocked], at=NOW)
    assert refused.path == path
    assert [reason.code for reason in refused.reasons] == ["SUPPLIER_BLOCKED"]
    (event,) = refused.events
    assert isinstance(event, InvoiceRejected)
    assert event.codes == ("SUPPLIER_BLOCKED",)


def test_only_an_invoice_on_its_way_to_the_erp_can_have_its_posting_refused():
    blocked = Reason(ValidationCode.SUPPLIER_BLOCKED, "blocked")
    with pytest.raises(DomainError):
        lifecycle.refuse_posting(invoice(1, status=InvoiceStatus.POSTED), [blocked], at=NOW)
