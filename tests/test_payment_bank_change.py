"""A supplier's remit-to bank account changed just before a payment run (the classic AP
fraud): its payments are held for review, the hold and its lifting audited; an account
changed after the run was approved is not paid to, but becomes a payment exception.

Each test runs on a server of its own (uvicorn on loopback over a fresh PostgreSQL schema),
since a changed bank account holds the supplier's payments in every later run.
"""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from apgraph.domain.bundle import MasterDataBundle, SupplierEntry
from apgraph.domain.suppliers import BankAccount, Supplier
from apgraph.store.master_data_io import SqlMasterData
from tests.conftest import Api
from tests.resolvers.test_payment_runs import (
    APPROVE,
    AUDIT,
    PAYMENT,
    PROPOSE,
    RELEASE,
    erp_book,
    finance,
    orders_for,
    person,
    posted_and_scheduled,
    proposed,
)
from tests.test_scenario import live_server
from tests.workflow import Order, Orders

pytestmark = pytest.mark.postgres

LIFT = """
mutation($id: ID!) {
  releasePaymentHold(paymentId: $id, note: "called the supplier back on file") {
    payment { id holdCode } userErrors { code }
  }
}
"""
ONBOARDING = "onboarding.test"


async def change_bank_account(api: Api, supplier: Supplier) -> None:
    """As a master-data import would: the supplier with a new remit-to account."""
    assert api.runtime is not None
    moved = replace(
        supplier,
        remit_to=BankAccount(
            bank_name="Elsewhere Savings", routing_number="021000021", account_number="99887766"
        ),
    )
    bundle = MasterDataBundle(suppliers=(SupplierEntry(supplier=moved, vendor_links=()),))
    await SqlMasterData(api.runtime.engine).upsert(bundle, actor=ONBOARDING, at=datetime.now(UTC))


def active_order(orders: Orders, key: str) -> Order:
    while True:
        order = orders.take(key, "full")
        if order.supplier.status.value == "ACTIVE":
            return order


async def propose_all(api: Api, token: str, order: Order, payment: dict[str, Any]) -> Any:
    body = await api.data(
        PROPOSE,
        {"input": {"facilityId": order.order.facility_id, "payDate": payment["scheduledDate"]}},
        token=token,
    )
    return body["schedulePaymentRun"]


async def test_a_bank_account_changed_just_before_a_run_holds_the_payment_for_review(
    tmp_path, network
):
    async with live_server(tmp_path, network) as api:
        order = active_order(Orders(network), "bank-change")
        _, payment = await posted_and_scheduled(api, order)

        # given the supplier's remit-to account changed today
        await change_bank_account(api, order.supplier)

        # when finance proposes the facility's run
        maker = person()
        proposal = await propose_all(api, finance(api, maker), order, payment)

        # then the payment is held for review, with its reason, out of the run, audited
        held = {p["id"]: p for p in proposal["held"]}
        assert held[payment["id"]]["holdCode"] == "BANK_ACCOUNT_CHANGED"
        found = (await api.data(PAYMENT, {"id": payment["id"]}))["payment"]
        assert (found["run"], found["holdCode"]) == (None, "BANK_ACCOUNT_CHANGED")
        trail = (await api.data(AUDIT, {"subject": maker}))["auditLog"]["edges"]
        assert ("payment.hold", "SUCCEEDED") in {
            (e["node"]["action"], e["node"]["outcome"]) for e in trail
        }
        changes = (await api.data(AUDIT, {"subject": ONBOARDING}))["auditLog"]["edges"]
        assert any("bank_account_number" in (e["node"]["detail"] or "") for e in changes)

        # when someone reviews it and lifts the hold, the next run takes it
        reviewer = person()
        lifted = await api.data(LIFT, {"id": payment["id"]}, token=finance(api, reviewer))
        assert lifted["releasePaymentHold"]["payment"]["holdCode"] is None
        run = await proposed(api, finance(api, maker), payment, order.order.facility_id)
        assert run["paymentCount"] == 1
        trail = (await api.data(AUDIT, {"subject": reviewer}))["auditLog"]["edges"]
        assert ("payment.release_hold", "SUCCEEDED") in {
            (e["node"]["action"], e["node"]["outcome"]) for e in trail
        }


async def test_a_bank_account_changed_after_approval_is_not_paid_but_an_exception(
    tmp_path, network
):
    async with live_server(tmp_path, network) as api:
        order = active_order(Orders(network), "bank-change-late")
        facility = order.order.facility_id
        _, payment = await posted_and_scheduled(api, order)
        run = await proposed(api, finance(api, person()), payment, facility)
        checker = finance(api, person())
        await api.data(APPROVE, {"id": run["id"]}, token=checker)

        # given the account changes once the run is approved
        await change_bank_account(api, order.supplier)

        # when the run is released
        released = (await api.data(RELEASE, {"id": run["id"]}, token=checker))["releasePaymentRun"]

        # then the payment is a payment exception, and the ERP was never asked to pay it
        assert released["exceptions"] == [
            {"id": payment["id"], "exceptionCode": "BANK_ACCOUNT_CHANGED"}
        ]
        found = (await api.data(PAYMENT, {"id": payment["id"]}))["payment"]
        assert (found["status"], found["exceptionCode"]) == ("FAILED", "BANK_ACCOUNT_CHANGED")
        assert orders_for(erp_book(api, facility), payment["id"]) == 0
