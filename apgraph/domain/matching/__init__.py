"""The three-way match of DESIGN §4: PO × goods receipts × invoice lines, plus contract price."""
