"""The supplier master: who may bill us, how they are taxed and paid."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum

from apgraph.domain.ids import SupplierId


class SupplierStatus(Enum):
    """Whether a supplier may bill and be paid."""

    ACTIVE = "ACTIVE"
    """Bills and is paid normally."""
    ON_HOLD = "ON_HOLD"
    """A payment hold: invoices are still received, matched and posted, not paid."""
    BLOCKED = "BLOCKED"
    """May not bill: new invoices are rejected with SUPPLIER_BLOCKED."""
    ONBOARDING = "ONBOARDING"
    """Vendor set-up (tax id, bank account) not verified yet: may not bill yet."""

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
    """How a supplier's invoices are taxed."""

    STANDARD = "STANDARD"
    """Bills tax at `taxRate` on the subtotal, rounded half up to cents."""
    EXEMPT = "EXEMPT"
    """Bills no tax."""


class PaymentTerms(Enum):
    """When a supplier's invoices fall due, counted from the invoice date."""

    NET15 = "NET15"
    """Due 15 days after the invoice date."""
    NET30 = "NET30"
    """Due 30 days after the invoice date."""
    NET45 = "NET45"
    """Due 45 days after the invoice date."""
    NET60 = "NET60"
    """Due 60 days after the invoice date."""
    DUE_ON_RECEIPT = "DUE_ON_RECEIPT"
    """Due on the invoice date."""
    NET30_2_10 = "NET30_2_10"
    """"2/10 net 30": due in 30 days; 2 % off when paid within 10."""

    @property
    def days(self) -> int:
        """Days from the invoice date to the due date; 0 when due on receipt."""
        return _TERM_DAYS[self]

    @property
    def discount(self) -> "EarlyPaymentDiscount | None":
        """The discount these terms offer for paying early; None for plain net terms."""
        return _DISCOUNTS.get(self)

    def due_date(self, invoice_date: date) -> date:
        return invoice_date + timedelta(days=self.days)


_TERM_DAYS = {
    PaymentTerms.NET15: 15,
    PaymentTerms.NET30: 30,
    PaymentTerms.NET45: 45,
    PaymentTerms.NET60: 60,
    PaymentTerms.DUE_ON_RECEIPT: 0,
    PaymentTerms.NET30_2_10: 30,
}


@dataclass(frozen=True, slots=True)
class EarlyPaymentDiscount:
    """`percent` off the total when paid at most `days` after the invoice date (inclusive)."""

    percent: Decimal  # "2" means 2 %
    days: int


_DISCOUNTS = {PaymentTerms.NET30_2_10: EarlyPaymentDiscount(percent=Decimal(2), days=10)}


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
    # Classified fields whose stored value failed its integrity check ("tax_id",
    # "remit_to.account_number", …): their values here are empty, never to be shown or used.
    unreadable: frozenset[str] = frozenset()
