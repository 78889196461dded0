"""Payments over the GraphQL API, on SQLite and PostgreSQL: one invoice from submission to a
downloadable remittance advice, maker–checker, holds, and the ERP down at release."""

import csv
import io
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pyx12.x12file import X12Reader

from apgraph.domain.principal import Role
from apgraph.domain.suppliers import SupplierStatus
from apgraph.domain.systems import ExternalSystem
from apgraph.services.scheduling import schedule_posted
from apgraph.simulators.faults import Fault, FaultKind
from tests.conftest import Api
from tests.services.workflow_support import CLOCK, workflow
from tests.workflow import Order, as_input, system_of_record, today

SUBMIT = """
mutation Submit($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) { invoice { id status } userErrors { code } }
}
"""
INVOICE = """
query($id: ID!) {
  invoice(id: $id) {
    id status
    payment { id status scheduledDate amount { amount currency } remittanceRef
              allocations { amount { amount } invoice { id } } }
  }
}
"""
PAYMENT = """
query($id: ID!) {
  payment(id: $id) {
    id status erpReference holdCode holdReason exceptionCode amount { amount currency }
    run { id status }
    remittanceDocuments { id format mediaType url sha256 }
  }
}
"""
PORTAL_PAYMENT = """
query($id: ID!) {
  payment(id: $id) { id status remittanceDocuments { id format mediaType url sha256 } }
}
"""  # what a supplier reads on its portal (payment runs are finance's, not in its view)
PORTAL = "supplier-portal/v1"
FINANCE = "finance-ops/v1"
EVENTS = "query($id: ID!) { invoiceEvents(invoiceId: $id) { type } }"
PROPOSE = """
mutation($input: SchedulePaymentRunInput!) {
  schedulePaymentRun(input: $input) {
    run { id status paymentCount approvalsNeeded approvers total { amount } }
    held { id holdCode holdReason }
    userErrors { code field }
  }
}
"""
RUN_FIELDS = """
    run { id status approvers releasedBy }
    held { id holdCode }
    exceptions { id exceptionCode }
    userErrors { code field }
"""
APPROVE = f"mutation($id: ID!) {{ approvePaymentRun(runId: $id) {{ {RUN_FIELDS} }} }}"
RELEASE = f"mutation($id: ID!) {{ releasePaymentRun(runId: $id) {{ {RUN_FIELDS} }} }}"
CONFIRM = """
mutation($id: ID!) {
  confirmPayment(paymentId: $id) { payment { id status remittanceRef } userErrors { code } }
}
"""
RETRY = """
mutation($id: ID!) {
  retryPaymentRelease(paymentId: $id) { payment { id status erpReference } userErrors { code } }
}
"""
HOLD = """
mutation($id: ID!, $reason: String!) {
  holdPayment(paymentId: $id, reason: $reason) { payment { id holdCode } userErrors { code } }
}
"""
AUDIT = """
query($subject: String) {
  auditLog(filter: {subject: $subject}, first: 50) { edges { node { action outcome detail } } }
}
"""


def finance(api: Api, subject: str) -> str:
    """A finance user of its own name: maker and checker must be two people."""
    issued = api.issuer.issue(
        subject=subject, now=datetime.now(UTC), claims={"roles": [Role.FINANCE_ADMIN.value]}
    )
    return issued.access_token


async def payable_order(orders: Any) -> Order:
    """A fully received PO of an ACTIVE supplier: one ON_HOLD may bill, but is not paid."""
    while True:
        order = await orders.take("full")
        if order.supplier.status is SupplierStatus.ACTIVE:
            return order


def person() -> str:
    return f"finance.{uuid.uuid4().hex[:8]}"


async def posted_and_scheduled(api: Api, order: Order) -> tuple[str, dict[str, Any]]:
    """Submits a clean invoice (POSTED), lets the scheduler run, and returns the invoice ID
    and its payment as the API shows it."""
    body = await api.data(
        SUBMIT,
        {"input": as_input(order.clean_invoice()), "key": f"key-{uuid.uuid4()}"},
        token=api.token(Role.SUPPLIER, supplier_id=order.supplier.id),
        product=PORTAL,
    )
    invoice = body["submitInvoice"]["invoice"]
    assert invoice["status"] == "POSTED", body
    assert api.runtime is not None
    await schedule_posted(workflow=workflow(api.runtime), clock=CLOCK, limit=100_000)
    found = (await api.data(INVOICE, {"id": invoice["id"]}))["invoice"]
    assert found["status"] == "SCHEDULED"
    return invoice["id"], found["payment"]


async def proposed(api: Api, token: str, payment: dict[str, Any], facility: str) -> dict[str, Any]:
    body = await api.data(
        PROPOSE,
        {
            "input": {
                "facilityId": facility,
                "payDate": payment["scheduledDate"],
                "paymentIds": [payment["id"]],
            }
        },
        token=token,
    )
    result = body["schedulePaymentRun"]
    assert result["userErrors"] == [], result
    return result["run"]


def erp_book(api: Api, facility: str) -> Any:
    assert api.runtime is not None
    simulators = api.runtime.connectors.simulators
    if system_of_record(api.runtime, facility) is ExternalSystem.LEGACY_ERP:
        return simulators.legacy_erp
    return simulators.cloud_erp


def orders_for(book: Any, payment_id: str) -> int:
    return sum(1 for o in book.book.orders.values() if o.draft.external_ref == payment_id)


async def test_one_invoice_from_submission_to_a_downloadable_remittance_advice(
    workflow_api, orders
):
    api = workflow_api
    order = await payable_order(orders)
    facility = order.order.facility_id
    maker, checker = person(), person()

    # given a clean invoice, posted and scheduled by its supplier's terms
    invoice_id, payment = await posted_and_scheduled(api, order)
    assert payment["status"] == "SCHEDULED"
    assert invoice_id in [a["invoice"]["id"] for a in payment["allocations"]]

    # when one person proposes a run, another approves and releases it
    run = await proposed(api, finance(api, maker), payment, facility)
    assert run["status"] == "PROPOSED"
    assert run["paymentCount"] == 1
    approved = await api.data(APPROVE, {"id": run["id"]}, token=finance(api, checker))
    if approved["approvePaymentRun"]["run"]["status"] == "PROPOSED":
        # the PO the pool handed out bills above payments.two_approvers_above: a second,
        # distinct approver completes the set
        approved = await api.data(APPROVE, {"id": run["id"]}, token=finance(api, person()))
    assert approved["approvePaymentRun"]["run"]["status"] == "APPROVED"
    released = await api.data(RELEASE, {"id": run["id"]}, token=finance(api, checker))
    assert released["releasePaymentRun"]["userErrors"] == []
    assert released["releasePaymentRun"]["run"]["releasedBy"] == checker

    # and the ERP confirms the payment
    taken = (await api.data(PAYMENT, {"id": payment["id"]}))["payment"]
    assert taken["status"] == "RELEASED"
    assert taken["erpReference"]
    confirmed = (await api.data(CONFIRM, {"id": payment["id"]}))["confirmPayment"]

    # then it is PAID, the invoice REMITTED, and each event was emitted once
    assert confirmed["userErrors"] == []
    assert confirmed["payment"]["status"] == "PAID"
    assert (await api.data(INVOICE, {"id": invoice_id}))["invoice"]["status"] == "REMITTED"
    events = Counter(
        e["type"] for e in (await api.data(EVENTS, {"id": invoice_id}))["invoiceEvents"]
    )
    for kind in ("invoice.posted", "payment.scheduled", "payment.released", "remittance.sent"):
        assert events[kind] == 1, events
    assert orders_for(erp_book(api, facility), payment["id"]) == 1

    # and the supplier downloads its remittance advice in every format
    supplier = api.token(Role.SUPPLIER, supplier_id=order.supplier.id)
    paid = (await api.data(PORTAL_PAYMENT, {"id": payment["id"]}, token=supplier, product=PORTAL))[
        "payment"
    ]
    documents = {d["format"]: d for d in paid["remittanceDocuments"]}
    assert set(documents) == {"PDF", "CSV", "X12_820"}
    pdf = await api.client.get(documents["PDF"]["url"], headers=api.headers(supplier))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    rows = list(
        csv.DictReader(
            io.StringIO(
                (await api.client.get(documents["CSV"]["url"], headers=api.headers(supplier))).text
            )
        )
    )
    paid_for = {a["invoice"]["id"]: a["amount"]["amount"] for a in payment["allocations"]}
    assert {r["invoice_id"]: r["paid"] for r in rows} == paid_for  # the supplier's other
    # invoices posted by then, due the same day at the same facility, share the payment

    # and another supplier finds nothing there
    stranger = api.token(Role.SUPPLIER, supplier_id=other_supplier(order))
    refused = await api.client.get(documents["PDF"]["url"], headers=api.headers(stranger))
    assert refused.status_code == 404


def other_supplier(order: Order) -> str:
    return "SUP-000002" if order.supplier.id == "SUP-000001" else "SUP-000001"


async def test_the_820_parses_back_with_its_segments_and_totals(workflow_api, orders):
    api = workflow_api
    order = await payable_order(orders)
    _, payment = await posted_and_scheduled(api, order)
    run = await proposed(api, finance(api, person()), payment, order.order.facility_id)
    checker = finance(api, person())
    await api.data(APPROVE, {"id": run["id"]}, token=checker)
    await api.data(RELEASE, {"id": run["id"]}, token=checker)
    await api.data(CONFIRM, {"id": payment["id"]})
    found = (await api.data(PAYMENT, {"id": payment["id"]}))["payment"]
    url = next(d["url"] for d in found["remittanceDocuments"] if d["format"] == "X12_820")

    # when the 820 is read back with pyx12's X12 reader
    text = (await api.client.get(url, headers=api.headers())).text
    reader = X12Reader(io.StringIO(text))
    segments = [(segment.get_seg_id(), segment) for segment in reader]

    # then the envelope counts check out, and the amounts add up
    assert reader.pop_errors() == []
    ids = [seg_id for seg_id, _ in segments]
    assert ids[:3] == ["ISA", "GS", "ST"]
    assert ids[-3:] == ["SE", "GE", "IEA"]
    by_id = {seg_id: segment for seg_id, segment in segments}
    assert by_id["BPR"].get_value("BPR02") == found["amount"]["amount"]
    paid = [s.get_value("RMR04") for seg_id, s in segments if seg_id == "RMR"]
    assert sum(map(float_free, paid)) == float_free(found["amount"]["amount"])
    assert int(by_id["SE"].get_value("SE01")) == ids.index("SE") - ids.index("ST") + 1


def float_free(amount: str) -> int:
    """Cents as an integer: amounts compare exactly, never as floats."""
    units, _, cents = amount.partition(".")
    return int(units) * 100 + int((cents + "00")[:2])


async def test_the_proposer_may_neither_approve_nor_release_and_nothing_changes(
    workflow_api, orders
):
    api = workflow_api
    order = await payable_order(orders)
    _, payment = await posted_and_scheduled(api, order)
    maker = person()
    run = await proposed(api, finance(api, maker), payment, order.order.facility_id)

    # when the proposer approves, and releases, their own run
    own_approval = await api.data(APPROVE, {"id": run["id"]}, token=finance(api, maker))
    early = await api.data(RELEASE, {"id": run["id"]}, token=finance(api, person()))
    checker = person()
    await api.data(APPROVE, {"id": run["id"]}, token=finance(api, checker))
    own_release = await api.data(RELEASE, {"id": run["id"]}, token=finance(api, maker))

    # then each is refused with a stable code, the run stays unreleased, attempts audited
    assert own_approval["approvePaymentRun"]["userErrors"] == [
        {"code": "PROPOSER_CANNOT_APPROVE", "field": ["runId"]}
    ]
    assert early["releasePaymentRun"]["userErrors"] == [
        {"code": "RUN_NOT_APPROVED", "field": ["runId"]}
    ]
    assert own_release["releasePaymentRun"]["userErrors"] == [
        {"code": "PROPOSER_CANNOT_RELEASE", "field": ["runId"]}
    ]
    found = (await api.data(PAYMENT, {"id": payment["id"]}))["payment"]
    assert found["status"] == "SCHEDULED"
    assert found["run"] == {"id": run["id"], "status": "APPROVED"}
    trail = (await api.data(AUDIT, {"subject": maker}))["auditLog"]["edges"]
    assert {(e["node"]["action"], e["node"]["outcome"], e["node"]["detail"]) for e in trail} >= {
        ("payment_run.approve", "DENIED", "PROPOSER_CANNOT_APPROVE"),
        ("payment_run.release", "DENIED", "PROPOSER_CANNOT_RELEASE"),
    }


async def test_above_the_threshold_two_distinct_approvers_come_before_release(
    workflow_api, orders, monkeypatch
):
    api = workflow_api
    assert api.runtime is not None
    order = await payable_order(orders)
    _, payment = await posted_and_scheduled(api, order)
    # a threshold below this payment: the policy of gateway.yaml, lowered for this test
    policy = api.runtime.workflow_policy
    lowered = replace(policy.payments, two_approvers_above=Decimal(0))
    # the runtime builds its policy once (a cached property, kept in the instance's dict)
    monkeypatch.setitem(vars(api.runtime), "workflow_policy", replace(policy, payments=lowered))
    run = await proposed(api, finance(api, person()), payment, order.order.facility_id)
    assert run["approvalsNeeded"] == 2
    first, second = person(), person()

    once = await api.data(APPROVE, {"id": run["id"]}, token=finance(api, first))
    again = await api.data(APPROVE, {"id": run["id"]}, token=finance(api, first))
    early = await api.data(RELEASE, {"id": run["id"]}, token=finance(api, second))
    twice = await api.data(APPROVE, {"id": run["id"]}, token=finance(api, second))
    released = await api.data(RELEASE, {"id": run["id"]}, token=finance(api, first))

    assert once["approvePaymentRun"]["run"]["status"] == "PROPOSED"
    assert again["approvePaymentRun"]["userErrors"][0]["code"] == "ALREADY_APPROVED_BY_YOU"
    assert early["releasePaymentRun"]["userErrors"][0]["code"] == "SECOND_APPROVER_REQUIRED"
    assert twice["approvePaymentRun"]["run"]["approvers"] == [first, second]
    assert released["releasePaymentRun"]["run"]["status"] == "RELEASED"


async def test_a_run_released_twice_pays_once(workflow_api, orders):
    api = workflow_api
    order = await payable_order(orders)
    facility = order.order.facility_id
    _, payment = await posted_and_scheduled(api, order)
    run = await proposed(api, finance(api, person()), payment, facility)
    checker = finance(api, person())
    await api.data(APPROVE, {"id": run["id"]}, token=checker)

    first = await api.data(RELEASE, {"id": run["id"]}, token=checker)
    second = await api.data(RELEASE, {"id": run["id"]}, token=finance(api, person()))
    confirmed = await api.data(CONFIRM, {"id": payment["id"]})
    duplicate = await api.data(CONFIRM, {"id": payment["id"]})

    assert first["releasePaymentRun"]["run"]["status"] == "RELEASED"
    assert second["releasePaymentRun"]["userErrors"] == []
    assert confirmed["confirmPayment"]["userErrors"] == []
    assert confirmed["confirmPayment"]["payment"]["status"] == "PAID"
    assert duplicate["confirmPayment"] == {
        "payment": None,
        "userErrors": [{"code": "PAYMENT_ALREADY_CONFIRMED"}],
    }
    assert orders_for(erp_book(api, facility), payment["id"]) == 1


async def test_with_the_erp_down_at_release_the_payment_is_dead_lettered_replayed_and_paid_once(
    workflow_api, orders
):
    api = workflow_api
    order = await payable_order(orders)
    facility = order.order.facility_id
    invoice_id, payment = await posted_and_scheduled(api, order)
    run = await proposed(api, finance(api, person()), payment, facility)
    checker = finance(api, person())
    await api.data(APPROVE, {"id": run["id"]}, token=checker)
    erp = erp_book(api, facility)
    operation = (
        "ReleasePayment"
        if erp is api.runtime.connectors.simulators.legacy_erp
        else ("POST /api/v2/payment-orders")
    )

    # given the ERP answers every payment order with 503, past every retry
    erp.plan.add(Fault(FaultKind.ERROR, operation=operation, times=None))
    try:
        await api.data(RELEASE, {"id": run["id"]}, token=checker)
        dead = (await api.data(PAYMENT, {"id": payment["id"]}))["payment"]
    finally:
        erp.plan.clear()

    # then the payment waits as a dead letter, ordered nowhere
    assert dead["status"] == "RELEASE_FAILED"
    assert dead["exceptionCode"] == "ERP_UNAVAILABLE"
    assert orders_for(erp, payment["id"]) == 0

    # when it is replayed with the ERP back, and the ERP confirms
    replayed = (await api.data(RETRY, {"id": payment["id"]}))["retryPaymentRelease"]
    again = (await api.data(RETRY, {"id": payment["id"]}))["retryPaymentRelease"]
    confirmed = (await api.data(CONFIRM, {"id": payment["id"]}))["confirmPayment"]

    # then it is paid once, and a second replay is refused
    assert replayed["payment"]["status"] == "RELEASED"
    assert again["userErrors"] == [{"code": "ILLEGAL_TRANSITION"}]
    assert confirmed["payment"]["status"] == "PAID"
    assert orders_for(erp, payment["id"]) == 1
    events = Counter(
        e["type"] for e in (await api.data(EVENTS, {"id": invoice_id}))["invoiceEvents"]
    )
    assert (events["payment.released"], events["remittance.sent"]) == (1, 1)


async def test_a_held_payment_stays_out_of_a_run_and_naming_it_is_refused(workflow_api, orders):
    api = workflow_api
    order = await payable_order(orders)
    _, payment = await posted_and_scheduled(api, order)
    maker = finance(api, person())
    held = await api.data(HOLD, {"id": payment["id"], "reason": "disputed"}, token=maker)
    assert held["holdPayment"]["payment"]["holdCode"] == "PAYMENT_HELD"

    body = await api.data(
        PROPOSE,
        {
            "input": {
                "facilityId": order.order.facility_id,
                "payDate": payment["scheduledDate"],
                "paymentIds": [payment["id"]],
            }
        },
        token=maker,
    )

    assert body["schedulePaymentRun"]["run"] is None
    assert body["schedulePaymentRun"]["userErrors"] == [
        {"code": "PAYMENT_ON_HOLD", "field": ["paymentIds", "0"]}
    ]
    found = (await api.data(PAYMENT, {"id": payment["id"]}))["payment"]
    assert (found["run"], found["holdCode"]) == (None, "PAYMENT_HELD")


@pytest.mark.parametrize(
    ("pay_date", "facility", "code", "field"),
    [
        (today() - timedelta(days=1), "FAC-0001", "PAY_DATE_IN_PAST", ["payDate"]),
        (today(), "FAC-0002", "FACILITY_NOT_MANAGED", ["facilityId"]),
        (today(), "FAC-0999", "FACILITY_NOT_MANAGED", ["facilityId"]),
    ],
)
async def test_a_run_in_the_past_or_for_a_facility_not_yours_is_refused(
    workflow_api, pay_date, facility, code, field
):
    api = workflow_api
    approver = api.token(Role.APPROVER, facility_ids=["FAC-0001"])
    body = await api.data(
        PROPOSE,
        {"input": {"facilityId": facility, "payDate": pay_date.isoformat()}},
        token=approver,
        product=FINANCE,
    )
    assert body["schedulePaymentRun"] == {
        "run": None,
        "held": [],
        "userErrors": [{"code": code, "field": field}],
    }


async def test_a_supplier_may_not_propose_a_run(workflow_api):
    # on its portal the mutation is not in the view; finance-ops does not admit suppliers
    api = workflow_api
    supplier = api.token(Role.SUPPLIER, supplier_id="SUP-000001")
    variables = {"input": {"facilityId": "FAC-0001", "payDate": today().isoformat()}}
    portal = await api.graphql(PROPOSE, variables, token=supplier, product=PORTAL)
    finance = await api.graphql(PROPOSE, variables, token=supplier, product=FINANCE)
    assert portal["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert finance["errors"][0]["extensions"]["code"] == "PRODUCT_NOT_ADMITTED"
