"""Stored values read back as the domain's members."""

import pytest

from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.purchasing import PurchaseOrderStatus
from apgraph.domain.suppliers import SupplierStatus
from apgraph.store.rows import member_by_value


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
