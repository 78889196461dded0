"""Domain dataclasses as table rows (shared by the demo writer and the master-data import),
and stored values back as the domain's enum members."""

from collections.abc import Callable
from dataclasses import fields
from enum import Enum
from typing import Any, TypeVar

from apgraph.domain.erp import MigrationMode
from apgraph.domain.facilities import Facility
from apgraph.domain.suppliers import Supplier
from apgraph.domain.systems import ExternalSystem

E = TypeVar("E", bound=Enum)


def row_of(value: Any, **parent: object) -> dict[str, Any]:
    """A domain dataclass as a row: its fields are the table's columns, enums stored as values.

    Shared with the master-data import (store/master_data_io.py), which writes the same rows,
    and with the workflow's and the payments' writes (invoices, their lines, status changes,
    approvals and exceptions, idempotency keys, payments and runs), where `dataclasses.asdict`
    cost ~1.5 % of a submission: it deep-copies every value (a datetime through copyreg)
    that a row hands on as it is.
    """
    row = {field.name: _column_value(getattr(value, field.name)) for field in fields(value)}
    row.update(parent)
    return row


def facility_row(
    facility: Facility, erp: ExternalSystem, migration: MigrationMode
) -> dict[str, Any]:
    return row_of(facility, erp_system=erp.value, migration_mode=migration.value)


def _column_value(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)  # a JSON column
    return value


def supplier_row(supplier: Supplier) -> dict[str, Any]:
    bank = supplier.remit_to
    return {
        "id": supplier.id,
        "legal_name": supplier.legal_name,
        "tax_id": supplier.tax_id,
        "status": supplier.status.value,
        "payment_terms": supplier.payment_terms.value,
        "tax_treatment": supplier.tax_treatment.value,
        "tax_rate": supplier.tax_rate,
        "bank_name": bank.bank_name if bank else None,
        "bank_routing_number": bank.routing_number if bank else None,
        "bank_account_number": bank.account_number if bank else None,
        "contacts": [
            {"name": c.name, "email": c.email, "phone": c.phone, "role": c.role}
            for c in supplier.contacts
        ],
    }


class _Members(dict[Any, Any]):
    """An enum's members by value; a value that is none of them raises as the enum would."""

    def __init__(self, enum_type: type[Enum]) -> None:
        super().__init__((member.value, member) for member in enum_type)
        self.enum_type = enum_type

    def __missing__(self, value: object) -> Enum:
        return self.enum_type(value)  # raises ValueError: not a member


def member_by_value(enum_type: type[E]) -> Callable[[Any], E]:
    """`enum_type(value)` as one dictionary lookup: a page reads a stored status for each of
    its rows (invoices, purchase orders, suppliers), and calling the enum costs two Python
    frames for the same lookup (issue 19)."""
    return _Members(enum_type).__getitem__
