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
    bank_name: str = strawberry.field(description="The bank holding the account.")
    routing_number: str = strawberry.field(description="ABA routing number, 9 digits.")
    account_number: str = strawberry.field(
        description="Classified: in full only with the suppliers:bank:read scope (and every such "
        "read is audited); otherwise all but the last 4 digits are masked."
    )
    last4: str = strawberry.field(description="The account number last 4 digits, for every reader.")
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


@strawberry.type(name="Contact", description="A person at the supplier.")
class ContactType:
    name: str = strawberry.field(description="Full name.")
    email: str = strawberry.field(description="E-mail address.")
    phone: str | None = strawberry.field(description="Phone number, if known.")
    role: str = strawberry.field(description="e.g. accounts receivable, remittance.")

    @classmethod
    def from_domain(cls, contact: Contact) -> Self:
        return cls(name=contact.name, email=contact.email, phone=contact.phone, role=contact.role)


@strawberry.type(name="Supplier", description="A company that bills the network.")
class SupplierType(Node):
    id: strawberry.ID = strawberry.field(description="Canonical ID, SUP-000123.")
    legal_name: str = strawberry.field(description="The registered company name.")
    tax_id: str = strawberry.field(description="Masked for partner systems.")
    status: SupplierStatus = strawberry.field(description="Whether it may bill and be paid.")
    payment_terms: PaymentTerms = strawberry.field(description="When its invoices fall due.")
    tax_treatment: TaxTreatment = strawberry.field(description="How its invoices are taxed.")
    tax_rate: Decimal = strawberry.field(description='"0.0825" is 8.25 %; 0 when exempt.')
    remit_to: BankAccountType | None = strawberry.field(
        description="Where payments go; null when not on file."
    )
    contacts: list[ContactType] = strawberry.field(description="People to contact at the supplier.")

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


@strawberry.type(name="SupplierConnection", description="A page of suppliers.")
class SupplierConnection(Connection[SupplierType]):
    pass


@strawberry.input(name="SupplierFilter", description="Every given criterion must hold.")
class SupplierFilterInput:
    status: list[SupplierStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive part of the legal name."
    )
