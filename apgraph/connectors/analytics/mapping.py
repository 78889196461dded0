"""Canonical forecast records → the analytics platform's webhook JSON."""

import hashlib
from collections.abc import Sequence
from typing import Any

from apgraph.connectors import vendor_values as values
from apgraph.domain.erp import ForecastRecord
from apgraph.domain.systems import ExternalSystem

SYSTEM = ExternalSystem.ANALYTICS
WEBHOOK = "webhooks/payment-forecasts"


def batch_to_vendor(records: Sequence[ForecastRecord], *, batch_key: str) -> dict[str, Any]:
    return {
        "batchId": batch_key,
        "records": [
            {
                "invoiceRef": record.invoice_id,
                "supplierRef": record.supplier_id,
                "siteRef": record.facility_id,
                "amount": format(record.amount, "f"),  # a JSON number would pass through float
                "currency": record.currency,
                "expectedDate": record.expected_on.isoformat(),
            }
            for record in records
        ],
    }


def batch_key(records: Sequence[ForecastRecord]) -> str:
    """Derived from the content, so the same batch resent (after a lost answer, or a restart)
    carries the same key and the platform counts it once."""
    digest = hashlib.sha256()
    for r in records:
        line = f"{r.invoice_id}|{r.supplier_id}|{r.facility_id}|{r.currency}|{r.amount}|"
        digest.update(f"{line}{r.expected_on.isoformat()}\n".encode())
    return f"forecast-{digest.hexdigest()[:32]}"


def accepted_from_vendor(body: Any) -> int:
    return values.integer(SYSTEM, "accepted", values.member(SYSTEM, body, "accepted"))
