"""Materials management (goods receipts) over JSON REST."""
