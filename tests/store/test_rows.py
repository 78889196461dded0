"""Stored values read back as the domain's members."""

from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum

import pytest

from apgraph.domain.approvals import Assignment
from apgraph.domain.ids import FacilityId, InvoiceId, PaymentId, PaymentRunId, SupplierId
from apgraph.domain.invoices import (
    Approval,
    ApprovalDecision,
    InvoiceException,
    InvoiceStatus,
    StatusChange,
)
from apgraph.domain.payment_runs import PaymentRun, PaymentRunStatus
from apgraph.domain.payments import (
    HoldCode,
    Payment,
    PaymentAllocation,
    PaymentExceptionCode,
    PaymentMethod,
    PaymentStatus,
)
from apgraph.domain.purchasing import PurchaseOrderStatus
from apgraph.domain.suppliers import SupplierStatus
from apgraph.services.ports.unit_of_work import IdempotencyRecord
from apgraph.store.rows import member_by_value, row_of
from tests.domain import examples

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
WRITTEN = [  # what the workflow and the payments write as rows
    examples.invoice(),
    examples.line(),
    StatusChange(
        InvoiceId("INV-000001"),
        2,
        AT,
        InvoiceStatus.RECEIVED,
        InvoiceStatus.MATCHED,
        "system",
        None,
    ),
    StatusChange(
        InvoiceId("INV-000001"), 1, AT, None, InvoiceStatus.RECEIVED, "portal.sup-1", "new"
    ),
    IdempotencyRecord("portal.sup-1", "key-1", "f" * 64, "INV-000001", AT),
    Approval(InvoiceId("INV-000001"), "approver.a", ApprovalDecision.APPROVED, AT, None),
    Assignment(InvoiceId("INV-000001"), "clerk.b", "system", AT, "over the limit"),
    InvoiceException("QTY_VARIANCE", 2, "billed 12, received 10"),
    Payment(
        PaymentId("PAY-000001"),
        SupplierId("SUP-000001"),
        Decimal("980.00"),
        "USD",
        PaymentMethod.ACH,
        date(2026, 12, 10),
        PaymentStatus.SCHEDULED,
        None,
        hold_code=HoldCode.SUPPLIER_ON_HOLD,
        exception_code=PaymentExceptionCode.ERP_REJECTED,
    ),
    PaymentRun(
        PaymentRunId("RUN-000001"),
        FacilityId("FAC-0001"),
        date(2026, 12, 10),
        PaymentRunStatus.PROPOSED,
        "USD",
        Decimal("980.00"),
        1,
        "finance.c",
        AT,
        2,
        approvers=("finance.d", "finance.e"),
    ),
    PaymentAllocation(PaymentId("PAY-000001"), InvoiceId("INV-000001"), Decimal("980.00")),
]


@pytest.mark.parametrize("value", WRITTEN, ids=lambda value: type(value).__name__)
def test_a_row_is_the_dataclass_with_its_enums_as_their_values(value) -> None:
    expected = {  # a tuple goes to a JSON column, as a list
        name: field.value
        if isinstance(field, Enum)
        else list(field)
        if isinstance(field, tuple)
        else field
        for name, field in asdict(value).items()
    }
    assert row_of(value) == expected
    assert row_of(value, invoice_id="INV-000009") == {**expected, "invoice_id": "INV-000009"}


@pytest.mark.parametrize("enum_type", [InvoiceStatus, PurchaseOrderStatus, SupplierStatus])
def test_every_stored_value_reads_back_as_its_member(enum_type) -> None:
    member = member_by_value(enum_type)
    assert [member(m.value) for m in enum_type] == list(enum_type)


def test_a_value_that_is_no_member_is_refused_as_the_enum_refuses_it() -> None:
    member = member_by_value(InvoiceStatus)
    with pytest.raises(ValueError, match="'PAID_TWICE' is not a valid InvoiceStatus"):
        member("PAID_TWICE")
    with pytest.raises(ValueError, match="None is not a valid InvoiceStatus"):
        member(None)
