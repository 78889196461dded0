"""The operations GraphiQL opens with: one tab per role, each runnable as it stands.

The first tab runs with the page's own read-only token; the others say which
`apgraph token` command gives the token their role needs (paste it into Headers).
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Example:
    role: str  # whose token the operation needs
    token_command: str | None  # None: the page's own token does
    query: str

    def tab(self) -> dict[str, str]:
        """One GraphiQL tab: the operation, with a header to fill in when it needs one."""
        tab = {"query": self.query}
        if self.token_command is not None:
            tab["headers"] = (
                '{"Authorization": "Bearer <paste the output of: ' + self.token_command + '>"}'
            )
        return tab


EXAMPLES = (
    Example(
        role="read-only demo (this page's token)",
        token_command=None,
        query="""# This page's read-only demo token runs this: press the run button (Ctrl-Enter).
# The other tabs hold each role's operations; each says which token it needs.
query WhoAmIAndRecentInvoices {
  viewer { subject roles scopes }
  invoices(first: 5) {
    totalCount
    edges { node { id status supplierInvoiceNumber total { amount currency } } }
  }
}
""",
    ),
    Example(
        role="supplier",
        token_command="apgraph token --role supplier --supplier SUP-000001",
        query="""# A supplier portal: one supplier's invoices, their PO and payment (its rows only).
query SupplierInvoices {
  invoices(filter: {supplierId: "SUP-000001", status: [POSTED, PAID]}, first: 10) {
    totalCount
    edges {
      node {
        id supplierInvoiceNumber status invoiceDate total { amount currency }
        purchaseOrder { id status }
        payment { id status scheduledDate }
      }
    }
  }
}
""",
    ),
    Example(
        role="ap_clerk",
        token_command="apgraph token --role ap_clerk",
        query="""# A procurement platform's checks before it sends an invoice.
query Checks {
  validatePurchaseOrder(input: {purchaseOrderId: "PO-2026-000001", supplierId: "SUP-000001"}) {
    valid reasons { code message }
  }
  validateCostCenter(facilityId: "FAC-0001", code: "4410") {
    valid reasons { code message } costCenter { id name }
  }
}
""",
    ),
    Example(
        role="approver",
        token_command="apgraph token --role approver --facility FAC-0001",
        query="""# An approver's queue at FAC-0001, and how long exceptions have waited.
query MyQueue {
  exceptionQueue(facilityId: "FAC-0001", first: 10) {
    totalCount
    edges { node { id total { amount currency } exceptions { code lineNo message } } }
  }
  invoiceAging(facilityId: "FAC-0001") { bucket count total { amount currency } }
}
""",
    ),
    Example(
        role="finance_admin",
        token_command="apgraph token --role finance_admin",
        query="""# Operations: the external systems as the server sees them, and a supplier's bank
# account in full (that read is audited).
query Operations {
  connectors { system endpoint reachable breaker calls failures }
  supplier(id: "SUP-000001") { id legalName remitTo { bankName accountNumber } }
}
""",
    ),
    Example(
        role="auditor",
        token_command="apgraph token --role auditor",
        query="""# The audit trail, newest first.
query AuditTrail {
  auditLog(first: 10) {
    edges { node { sequence at subject action outcome detail } }
  }
}
""",
    ),
)
