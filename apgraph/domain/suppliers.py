"""The supplier master: who may bill us, how they are taxed and paid."""

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from apgraph.domain.ids import SupplierId


class SupplierStatus(Enum):
    ACTIVE = "ACTIVE"
    ON_HOLD = "ON_HOLD"
    BLOCKED = "BLOCKED"
    ONBOARDING = "ONBOARDING"


class TaxTreatment(Enum):
    STANDARD = "STANDARD"  # bills tax at `tax_rate` on the subtotal
    EXEMPT = "EXEMPT"  # bills no tax


class PaymentTerms(Enum):
    NET15 = "NET15"
    NET30 = "NET30"
    NET45 = "NET45"
    NET60 = "NET60"
    DUE_ON_RECEIPT = "DUE_ON_RECEIPT"


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
