"""The supplier master, with the remit-to bank account masked by classification."""

from decimal import Decimal
from typing import Self

import strawberry

from apgraph.domain.money import plain
from apgraph.domain.suppliers import BankAccount, Contact, Supplier
from apgraph.schema.batched import Computed, batched, stored_field
from apgraph.schema.context import Info
from apgraph.schema.enums import PaymentTerms, SupplierStatus, TaxTreatment
from apgraph.schema.errors import FieldUnreadable
from apgraph.schema.node import Node
from apgraph.schema.pagination import Connection


def readable(info: Info, owner_id: str, name: str, value: str, unreadable: bool) -> str:
    """The value, or FIELD_UNREADABLE for this field alone (recorded for the audit trail)."""
    if unreadable:
        info.context.unreadable.append((name, owner_id))
        raise FieldUnreadable(
            f"{name} of {owner_id} cannot be read: the stored value fails its integrity check"
        )
    return value


class _Unreadable(Exception):
    """A sealed value failed its integrity check: the resolver, not the fast path, reports it."""


def sealed(value: str, broken: bool) -> str:
    """The value as the fast path of reads reads it (the resolvers' `readable` reports)."""
    if broken:
        raise _Unreadable
    return value


def _routing_number(root: "BankAccountType", info: Info) -> str:
    value, broken = root.account.routing_number, "routing_number" in root.unreadable
    return readable(info, root.owner_id, "BankAccount.routingNumber", value, broken)


def _account_number(root: "BankAccountType", info: Info) -> str:
    value, broken = root.account.account_number, "account_number" in root.unreadable
    return readable(info, root.owner_id, "BankAccount.accountNumber", value, broken)


def _last4(root: "BankAccountType", info: Info) -> str:
    value, broken = root.account.last4, "account_number" in root.unreadable
    return readable(info, root.owner_id, "BankAccount.last4", value, broken)


ROUTING_NUMBER: Computed["BankAccountType", str] = Computed(
    lambda root: sealed(root.account.routing_number, "routing_number" in root.unreadable)
)
ACCOUNT_NUMBER: Computed["BankAccountType", str] = Computed(
    lambda root: sealed(root.account.account_number, "account_number" in root.unreadable)
)
LAST4: Computed["BankAccountType", str] = Computed(
    lambda root: sealed(root.account.last4, "account_number" in root.unreadable)
)


@strawberry.type(name="BankAccount", description="Where payments go. Classified data.")
class BankAccountType:
    bank_name: str = strawberry.field(description="The bank holding the account.")
    routing_number: str = strawberry.field(
        resolver=_routing_number,
        metadata=batched(ROUTING_NUMBER),
        description="ABA routing number, 9 digits.",
    )
    account_number: str = strawberry.field(
        resolver=_account_number,
        metadata=batched(ACCOUNT_NUMBER),
        description="Classified: in full only with the suppliers:bank:read scope (and every such "
        "read is audited); otherwise all but the last 4 digits are masked.",
    )
    last4: str = strawberry.field(
        resolver=_last4,
        metadata=batched(LAST4),
        description="The account number last 4 digits, for every reader.",
    )
    owner_id: strawberry.Private[str]  # the supplier, named in the audit trail
    account: strawberry.Private[BankAccount]
    unreadable: strawberry.Private[frozenset[str]]  # "routing_number", "account_number"

    @classmethod
    def from_domain(
        cls, account: BankAccount, *, owner_id: str, unreadable: frozenset[str] = frozenset()
    ) -> Self:
        return cls(
            bank_name=account.bank_name, owner_id=owner_id, account=account, unreadable=unreadable
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


def _tax_id(root: "SupplierType", info: Info) -> str:
    broken = "tax_id" in root.unreadable
    return readable(info, str(root.id), "Supplier.taxId", root.stored_tax_id, broken)


TAX_ID: Computed["SupplierType", str] = Computed(
    lambda root: sealed(root.stored_tax_id, "tax_id" in root.unreadable)
)


@strawberry.type(name="Supplier", description="A company that bills the network.")
class SupplierType(Node):
    id: strawberry.ID = stored_field("Canonical ID, SUP-000123.")
    legal_name: str = stored_field("The registered company name.")
    tax_id: str = strawberry.field(
        resolver=_tax_id, metadata=batched(TAX_ID), description="Masked for partner systems."
    )
    status: SupplierStatus = stored_field("Whether it may bill and be paid.")
    payment_terms: PaymentTerms = strawberry.field(description="When its invoices fall due.")
    tax_treatment: TaxTreatment = strawberry.field(description="How its invoices are taxed.")
    tax_rate: Decimal = strawberry.field(description='"0.0825" is 8.25 %; 0 when exempt.')
    remit_to: BankAccountType | None = strawberry.field(
        description="Where payments go; null when not on file."
    )
    contacts: list[ContactType] = strawberry.field(description="People to contact at the supplier.")
    stored_tax_id: strawberry.Private[str]
    unreadable: strawberry.Private[frozenset[str]]

    @classmethod
    def from_domain(cls, supplier: Supplier) -> Self:
        return cls(
            id=strawberry.ID(supplier.id),
            legal_name=supplier.legal_name,
            stored_tax_id=supplier.tax_id,
            unreadable=supplier.unreadable,
            status=supplier.status,
            payment_terms=supplier.payment_terms,
            tax_treatment=supplier.tax_treatment,
            tax_rate=plain(supplier.tax_rate),
            remit_to=(
                BankAccountType.from_domain(
                    supplier.remit_to,
                    owner_id=supplier.id,
                    unreadable=frozenset(
                        name.removeprefix("remit_to.") for name in supplier.unreadable
                    ),
                )
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
