"""The supplier master: who may bill us, how they are taxed and paid."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum

from apgraph.domain.ids import SupplierId


class SupplierStatus(Enum):
    ACTIVE = "ACTIVE"
    ON_HOLD = "ON_HOLD"  # a payment hold: invoices are still received, matched and posted
    BLOCKED = "BLOCKED"
    ONBOARDING = "ONBOARDING"  # vendor set-up (tax id, bank account) not verified yet

    @property
    def may_bill(self) -> bool:
        """Blocked suppliers may not bill, nor may suppliers still onboarding (SUPPLIER_BLOCKED).

        Until onboarding is verified no ERP knows the vendor, so the invoice could never post;
        rejecting it at once tells the supplier to resubmit, with the same number, once set up.
        """
        return self in (SupplierStatus.ACTIVE, SupplierStatus.ON_HOLD)

    @property
    def may_be_paid(self) -> bool:
        """Only active suppliers get new payments; a hold stops payments, not invoices."""
        return self is SupplierStatus.ACTIVE


class TaxTreatment(Enum):
    STANDARD = "STANDARD"  # bills tax at `tax_rate` on the subtotal
    EXEMPT = "EXEMPT"  # bills no tax


class PaymentTerms(Enum):
    NET15 = "NET15"
    NET30 = "NET30"
    NET45 = "NET45"
    NET60 = "NET60"
    DUE_ON_RECEIPT = "DUE_ON_RECEIPT"

    @property
    def days(self) -> int:
        """Days from the invoice date to the due date; 0 when due on receipt."""
        return _TERM_DAYS[self]

    def due_date(self, invoice_date: date) -> date:
        return invoice_date + timedelta(days=self.days)


_TERM_DAYS = {
    PaymentTerms.NET15: 15,
    PaymentTerms.NET30: 30,
    PaymentTerms.NET45: 45,
    PaymentTerms.NET60: 60,
    PaymentTerms.DUE_ON_RECEIPT: 0,
}


@dataclass(frozen=True, slots=True)
class BankAccount:
    """The remit-to account: classified data, shown in full only with `suppliers:bank:read`."""

    bank_name: str
    routing_number: str
    account_number: str

    @property
    def last4(self) -> str:
        return self.account_number[-4:]


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    email: str
    phone: str | None
    role: str  # e.g. "accounts receivable"


@dataclass(frozen=True, slots=True)
class Supplier:
    id: SupplierId
    legal_name: str
    tax_id: str
    status: SupplierStatus
    payment_terms: PaymentTerms
    tax_treatment: TaxTreatment
    tax_rate: Decimal  # "0.0825" means 8.25 %; 0 for EXEMPT
    remit_to: BankAccount | None
    contacts: tuple[Contact, ...]
