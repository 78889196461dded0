"""The supplier master, with the remit-to bank account masked by classification."""

from decimal import Decimal
from typing import Self

import strawberry

from apgraph.domain.money import plain
from apgraph.domain.suppliers import BankAccount, Contact, Supplier
from apgraph.schema.enums import PaymentTerms, SupplierStatus, TaxTreatment
from apgraph.schema.node import Node
from apgraph.schema.pagination import Connection


@strawberry.type(name="BankAccount", description="Where payments go. Classified data.")
class BankAccountType:
    bank_name: str
    routing_number: str
    account_number: str = strawberry.field(
        description="Classified: in full only with the suppliers:bank:read scope (and every such "
        "read is audited); otherwise all but the last 4 digits are masked."
    )
    last4: str
    owner_id: strawberry.Private[str]  # the supplier, named in the audit trail

    @classmethod
    def from_domain(cls, account: BankAccount, *, owner_id: str) -> Self:
        return cls(
            bank_name=account.bank_name,
            routing_number=account.routing_number,
            account_number=account.account_number,
            last4=account.last4,
            owner_id=owner_id,
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
    tax_id: str = strawberry.field(description="Masked for partner systems.")
    status: SupplierStatus
    payment_terms: PaymentTerms
    tax_treatment: TaxTreatment
    tax_rate: Decimal = strawberry.field(description='"0.0825" is 8.25 %; 0 when exempt.')
    remit_to: BankAccountType | None
    contacts: list[ContactType]

    @classmethod
    def from_domain(cls, supplier: Supplier) -> Self:
        return cls(
            id=strawberry.ID(supplier.id),
            legal_name=supplier.legal_name,
            tax_id=supplier.tax_id,
            status=supplier.status,
            payment_terms=supplier.payment_terms,
            tax_treatment=supplier.tax_treatment,
            tax_rate=plain(supplier.tax_rate),
            remit_to=(
                BankAccountType.from_domain(supplier.remit_to, owner_id=supplier.id)
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
