"""A supplier's remit-to bank account changed just before a payment run (the classic AP
fraud): its payments are held for review, the hold and its lifting audited; an account
changed after the run was approved is not paid to, but becomes a payment exception.

The database is the session's, so each test puts the supplier's account (and the mark of
its change) back afterwards: a changed account holds the supplier's payments in later runs.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from apgraph.domain.bundle import MasterDataBundle, SupplierEntry
from apgraph.domain.suppliers import BankAccount, Supplier
from apgraph.store.master_data_io import SqlMasterData
from apgraph.store.tables import SupplierRow
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
    payable_order,
    person,
    posted_and_scheduled,
    proposed,
)
from tests.workflow import Order

LIFT = """
mutation($id: ID!) {
  releasePaymentHold(paymentId: $id, note: "called the supplier back on file") {
    payment { id holdCode } userErrors { code }
  }
}
"""
ONBOARDING = "onboarding.test"


@asynccontextmanager
async def bank_account_changed(api: Api, supplier: Supplier) -> AsyncIterator[None]:
    """As a master-data import would: the supplier with a new remit-to account, for the
    test's while; then the stored account, and no mark of a change, as before."""
    assert api.runtime is not None
    moved = replace(
        supplier,
        remit_to=BankAccount(
            bank_name="Elsewhere Savings", routing_number="021000021", account_number="99887766"
        ),
    )
    store = SqlMasterData(api.runtime.engine, api.runtime.keyring)
    entry = SupplierEntry(supplier=moved, vendor_links=())
    await store.upsert(MasterDataBundle(suppliers=(entry,)), actor=ONBOARDING, at=datetime.now(UTC))
    try:
        yield
    finally:
        back = SupplierEntry(supplier=supplier, vendor_links=())
        await store.upsert(
            MasterDataBundle(suppliers=(back,)), actor=ONBOARDING, at=datetime.now(UTC)
        )
        async with api.runtime.engine.begin() as connection:
            await connection.execute(
                update(SupplierRow)
                .where(SupplierRow.id == supplier.id)
                .values(bank_account_changed_at=None)
            )


async def propose_all(api: Api, token: str, order: Order, payment: dict[str, Any]) -> Any:
    body = await api.data(
        PROPOSE,
        {"input": {"facilityId": order.order.facility_id, "payDate": payment["scheduledDate"]}},
        token=token,
    )
    return body["schedulePaymentRun"]


async def test_a_bank_account_changed_just_before_a_run_holds_the_payment_for_review(
    workflow_api, orders
):
    api = workflow_api
    order = await payable_order(orders)
    _, payment = await posted_and_scheduled(api, order)

    # given the supplier's remit-to account changed today
    async with bank_account_changed(api, order.supplier):
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
    workflow_api, orders
):
    api = workflow_api
    order = await payable_order(orders)
    facility = order.order.facility_id
    _, payment = await posted_and_scheduled(api, order)
    run = await proposed(api, finance(api, person()), payment, facility)
    checker = finance(api, person())
    await api.data(APPROVE, {"id": run["id"]}, token=checker)

    # given the account changes once the run is approved
    async with bank_account_changed(api, order.supplier):
        # when the run is released
        released = (await api.data(RELEASE, {"id": run["id"]}, token=checker))["releasePaymentRun"]

        # then the payment is a payment exception, and the ERP was never asked to pay it
        assert released["exceptions"] == [
            {"id": payment["id"], "exceptionCode": "BANK_ACCOUNT_CHANGED"}
        ]
        found = (await api.data(PAYMENT, {"id": payment["id"]}))["payment"]
        assert (found["status"], found["exceptionCode"]) == ("FAILED", "BANK_ACCOUNT_CHANGED")
        assert orders_for(erp_book(api, facility), payment["id"]) == 0
