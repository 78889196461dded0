"""The domain's enums, registered once with strawberry under their GraphQL names."""

import strawberry

from apgraph.domain import codes, invoices, payments, purchasing, suppliers

SupplierStatus = strawberry.enum(suppliers.SupplierStatus, name="SupplierStatus")
TaxTreatment = strawberry.enum(suppliers.TaxTreatment, name="TaxTreatment")
PaymentTerms = strawberry.enum(suppliers.PaymentTerms, name="PaymentTerms")
PurchaseOrderStatus = strawberry.enum(purchasing.PurchaseOrderStatus, name="PurchaseOrderStatus")
Category = strawberry.enum(purchasing.Category, name="Category")
InvoiceStatus = strawberry.enum(invoices.InvoiceStatus, name="InvoiceStatus")
ApprovalStatus = strawberry.enum(invoices.ApprovalStatus, name="ApprovalStatus")
ApprovalDecision = strawberry.enum(invoices.ApprovalDecision, name="ApprovalDecision")
PaymentStatus = strawberry.enum(payments.PaymentStatus, name="PaymentStatus")
PaymentMethod = strawberry.enum(payments.PaymentMethod, name="PaymentMethod")
ValidationCode = strawberry.enum(codes.ValidationCode, name="ValidationCode")
