"""The sourcing/contracts platform (contract prices) over JSON REST."""
