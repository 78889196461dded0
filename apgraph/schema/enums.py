"""The domain's enums, registered once with strawberry under their GraphQL names.

`strawberry.enum` marks the domain class itself, so the aliases stay plain types for mypy.
"""

import strawberry

from apgraph.domain import codes, invoices, payments, purchasing, suppliers

SupplierStatus = suppliers.SupplierStatus
strawberry.enum(SupplierStatus, name="SupplierStatus")
TaxTreatment = suppliers.TaxTreatment
strawberry.enum(TaxTreatment, name="TaxTreatment")
PaymentTerms = suppliers.PaymentTerms
strawberry.enum(PaymentTerms, name="PaymentTerms")
PurchaseOrderStatus = purchasing.PurchaseOrderStatus
strawberry.enum(PurchaseOrderStatus, name="PurchaseOrderStatus")
Category = purchasing.Category
strawberry.enum(Category, name="Category")
InvoiceStatus = invoices.InvoiceStatus
strawberry.enum(InvoiceStatus, name="InvoiceStatus")
ApprovalStatus = invoices.ApprovalStatus
strawberry.enum(ApprovalStatus, name="ApprovalStatus")
ApprovalDecision = invoices.ApprovalDecision
strawberry.enum(ApprovalDecision, name="ApprovalDecision")
PaymentStatus = payments.PaymentStatus
strawberry.enum(PaymentStatus, name="PaymentStatus")
PaymentMethod = payments.PaymentMethod
strawberry.enum(PaymentMethod, name="PaymentMethod")
ValidationCode = codes.ValidationCode
strawberry.enum(ValidationCode, name="ValidationCode")
