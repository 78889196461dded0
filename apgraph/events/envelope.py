"""An outbox record ⇄ its wire form: a CloudEvents 1.0 JSON event (structured mode).

The attribute names are CloudEvents' (`specversion`, `id`, `source`, `type`, `subject`,
`time`, `datacontenttype`, `data`); DESIGN §5's other envelope fields travel as extension
attributes, lower-case as the spec requires: `sequence`, `supplierid`, `facilityid`,
`traceid`. `data` is the canonical payload with its own `version`. The bus, webhooks and
`apgraph events replay` all send this one shape.
"""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from apgraph.domain.ids import FacilityId, InvoiceId, SupplierId
from apgraph.services.ports.unit_of_work import OutboxRecord

SPEC_VERSION = "1.0"
SOURCE = "urn:apgraph"
CONTENT_TYPE = "application/json"
MEDIA_TYPE = "application/cloudevents+json"


class EnvelopeError(ValueError):
    """Bytes that are not an apgraph CloudEvent."""


def to_cloudevent(record: OutboxRecord) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": record.id,
        "source": SOURCE,
        "type": record.type,
        "subject": record.invoice_id,
        "time": record.occurred_at.isoformat(),
        "datacontenttype": CONTENT_TYPE,
        "sequence": record.sequence,
        "supplierid": record.supplier_id,
        "facilityid": record.facility_id,
        "data": dict(record.payload),
    }
    if record.trace_id:
        event["traceid"] = record.trace_id
    return event


def encode(record: OutboxRecord) -> bytes:
    return json.dumps(to_cloudevent(record), separators=(",", ":")).encode()


def decode(body: bytes) -> OutboxRecord:
    """The record again (unpublished as far as the receiver knows)."""
    try:
        event = json.loads(body)
        if event.get("specversion") != SPEC_VERSION or event.get("source") != SOURCE:
            raise EnvelopeError("not an apgraph CloudEvent")
        data = event["data"]
        if not isinstance(data, Mapping):
            raise EnvelopeError("`data` is not an object")
        return OutboxRecord(
            id=str(event["id"]),
            type=str(event["type"]),
            sequence=int(event["sequence"]),
            occurred_at=datetime.fromisoformat(event["time"]),
            invoice_id=InvoiceId(str(event["subject"])),
            supplier_id=SupplierId(str(event["supplierid"])),
            facility_id=FacilityId(str(event["facilityid"])),
            trace_id=event.get("traceid"),
            payload=dict(data),
            published_at=None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise EnvelopeError(f"malformed event: {error}") from None
