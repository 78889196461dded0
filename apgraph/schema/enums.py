"""The domain's enums, registered once with strawberry under their GraphQL names.

`strawberry.enum` marks the domain class itself, so the aliases stay plain types for mypy.
Descriptions come from the domain: the class docstring describes the enum and the docstring
under each member describes that value, so a new code is documented where it is defined.
"""

import ast
import inspect
from enum import Enum
from typing import Any

import strawberry

from apgraph.domain import (
    codes,
    invoices,
    payment_runs,
    payments,
    purchasing,
    remittance,
    suppliers,
)


def register_enum(cls: type[Enum], *, name: str, description: str | None = None) -> None:
    """`strawberry.enum` with the domain's docstrings as the enum's and its values' descriptions.

    strawberry reads per-value descriptions only from `strawberry.enum_value`, which the pure
    domain cannot use; the definition it returns is updated instead.
    """
    strawberry.enum(cls, name=name, description=description or inspect.getdoc(cls))
    described = member_docstrings(cls)
    definition: Any = cls.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        value.description = described.get(value.name)


def member_docstrings(cls: type[Enum]) -> dict[str, str]:
    """The string literal under each `NAME = value` line of the class body."""
    body = ast.parse(inspect.cleandoc("\n" + inspect.getsource(cls))).body[0]
    assert isinstance(body, ast.ClassDef)
    found: dict[str, str] = {}
    for statement, following in zip(body.body, body.body[1:], strict=False):
        if (
            isinstance(statement, ast.Assign)
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            found[statement.targets[0].id] = inspect.cleandoc(following.value.value)
    return found


SupplierStatus = suppliers.SupplierStatus
register_enum(SupplierStatus, name="SupplierStatus")
TaxTreatment = suppliers.TaxTreatment
register_enum(TaxTreatment, name="TaxTreatment")
PaymentTerms = suppliers.PaymentTerms
register_enum(PaymentTerms, name="PaymentTerms")
PurchaseOrderStatus = purchasing.PurchaseOrderStatus
register_enum(PurchaseOrderStatus, name="PurchaseOrderStatus")
Category = purchasing.Category
register_enum(Category, name="Category")
InvoiceStatus = invoices.InvoiceStatus
register_enum(InvoiceStatus, name="InvoiceStatus")
ApprovalStatus = invoices.ApprovalStatus
register_enum(ApprovalStatus, name="ApprovalStatus")
ApprovalDecision = invoices.ApprovalDecision
register_enum(ApprovalDecision, name="ApprovalDecision")
PaymentStatus = payments.PaymentStatus
register_enum(PaymentStatus, name="PaymentStatus")
PaymentMethod = payments.PaymentMethod
register_enum(PaymentMethod, name="PaymentMethod")
HoldCode = payments.HoldCode
register_enum(HoldCode, name="PaymentHoldCode")
PaymentExceptionCode = payments.PaymentExceptionCode
register_enum(PaymentExceptionCode, name="PaymentExceptionCode")
PaymentRunStatus = payment_runs.PaymentRunStatus
register_enum(PaymentRunStatus, name="PaymentRunStatus")
RemittanceFormat = remittance.RemittanceFormat
register_enum(RemittanceFormat, name="RemittanceFormat")
ValidationCode = codes.ValidationCode
register_enum(ValidationCode, name="ValidationCode")
