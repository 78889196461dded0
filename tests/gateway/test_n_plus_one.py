"""The N+1 guard: a page's SQL statement count does not grow with the page size."""

PORTAL_PAGE = """
query Page($first: Int!) {
  invoices(first: $first) {
    edges { node {
      id status total { amount currency }
      supplier { id legalName remitTo { last4 } }
      lines { lineNo quantity unitPrice { amount } amount { amount } }
      purchaseOrder { id status lines { lineNo } goodsReceipts { id } costCenter { id } }
      costCenter { id name facility { id name } }
      facility { id }
      exceptions { code }
      history { toStatus }
      approvals { decision }
      approvalStatus
      payment { id status allocations { amount { amount } } }
      attachments { id }
    } }
  }
}
"""

# One statement per place the query reads from: invoices, suppliers, invoice lines, POs,
# PO lines, receipts, cost centers (twice: the invoice's, and the PO's once the PO is known),
# facilities, exceptions, history, approvals, allocations to the invoice, payments,
# allocations of the payment, attachments. A cost center already cached saves one.
READS_IN_THE_QUERY = 16


async def statements_for(api, first):
    body = await api.graphql(PORTAL_PAGE, {"first": first})
    assert "errors" not in body, body["errors"]
    assert len(body["data"]["invoices"]["edges"]) == first
    return body["extensions"]["sqlStatements"]


async def test_pages_of_10_and_100_invoices_cost_one_statement_per_relation(api):
    ten = await statements_for(api, 10)
    hundred = await statements_for(api, 100)
    assert ten <= READS_IN_THE_QUERY
    assert hundred <= READS_IN_THE_QUERY
