"""The supplier master, with the remit-to bank account masked by classification."""

from decimal import Decimal
from typing import Self

import strawberry

from apgraph.domain.money import plain
from apgraph.domain.principal import Principal
from apgraph.domain.suppliers import BankAccount, Contact, Supplier
from apgraph.schema.enums import PaymentTerms, SupplierStatus, TaxTreatment
from apgraph.schema.node import Node
from apgraph.schema.pagination import Connection

BANK_READ_SCOPE = "suppliers:bank:read"


def mask_account_number(number: str) -> str:
    return "•" * max(len(number) - 4, 0) + number[-4:]


@strawberry.type(name="BankAccount", description="Where payments go. Classified data.")
class BankAccountType:
    bank_name: str
    routing_number: str
    account_number: str = strawberry.field(
        description=f"In full only with the `{BANK_READ_SCOPE}` scope; else all but the last 4 "
        "digits are masked."
    )
    last4: str

    @classmethod
    def for_principal(cls, account: BankAccount, principal: Principal) -> Self:
        """Masking is decided here, in code, for every read, whatever the query asked."""
        full = principal.has_scope(BANK_READ_SCOPE)
        return cls(
            bank_name=account.bank_name,
            routing_number=account.routing_number,
            account_number=(
                account.account_number if full else mask_account_number(account.account_number)
            ),
            last4=account.last4,
        )


@strawberry.type(name="Contact")
class ContactType:
    name: str
    email: str
    phone: str | None
    role: str

    @classmethod
    def from_domain(cls, contact: Contact) -> Self:
        return cls(name=contact.name, email=contact.email, phone=contact.phone, role=contact.role)


@strawberry.type(name="Supplier", description="A company that bills the network.")
class SupplierType(Node):
    id: strawberry.ID
    legal_name: str
    tax_id: str
    status: SupplierStatus
    payment_terms: PaymentTerms
    tax_treatment: TaxTreatment
    tax_rate: Decimal = strawberry.field(description='"0.0825" is 8.25 %; 0 when exempt.')
    remit_to: BankAccountType | None
    contacts: list[ContactType]

    @classmethod
    def for_principal(cls, supplier: Supplier, principal: Principal) -> Self:
        return cls(
            id=strawberry.ID(supplier.id),
            legal_name=supplier.legal_name,
            tax_id=supplier.tax_id,
            status=supplier.status,
            payment_terms=supplier.payment_terms,
            tax_treatment=supplier.tax_treatment,
            tax_rate=plain(supplier.tax_rate),
            remit_to=(
                BankAccountType.for_principal(supplier.remit_to, principal)
                if supplier.remit_to
                else None
            ),
            contacts=[ContactType.from_domain(c) for c in supplier.contacts],
        )


@strawberry.type(name="SupplierConnection")
class SupplierConnection(Connection[SupplierType]):
    pass


@strawberry.input(name="SupplierFilter")
class SupplierFilterInput:
    status: list[SupplierStatus] | None = None
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive part of the legal name."
    )
