"""The supplier master's rules: payment terms, and who may bill or be paid."""

from datetime import date

import pytest

from apgraph.domain.suppliers import PaymentTerms, SupplierStatus


@pytest.mark.parametrize(
    ("terms", "due"),
    [
        (PaymentTerms.NET15, date(2026, 11, 4)),
        (PaymentTerms.NET30, date(2026, 11, 19)),
        (PaymentTerms.NET45, date(2026, 12, 4)),
        (PaymentTerms.NET60, date(2026, 12, 19)),
        (PaymentTerms.DUE_ON_RECEIPT, date(2026, 10, 20)),
    ],
)
def test_an_invoice_is_due_its_terms_days_after_its_date(terms, due):
    assert terms.due_date(date(2026, 10, 20)) == due


@pytest.mark.parametrize(
    ("status", "may_bill", "may_be_paid"),
    [
        (SupplierStatus.ACTIVE, True, True),
        (SupplierStatus.ON_HOLD, True, False),  # a payment hold: invoices still flow
        (SupplierStatus.BLOCKED, False, False),
        (SupplierStatus.ONBOARDING, False, False),  # not set up in any ERP yet
    ],
)
def test_who_may_bill_and_who_may_be_paid(status, may_bill, may_be_paid):
    assert (status.may_bill, status.may_be_paid) == (may_bill, may_be_paid)
