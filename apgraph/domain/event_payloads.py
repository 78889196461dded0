"""Domain events ⇄ their canonical, versioned JSON payloads (DESIGN §5).

The envelope carries the subject ids and `occurred_at`; the payload carries the rest of the
event's fields and the payload `version`. Amounts are strings (`"0.30"`, never a float), dates
and datetimes ISO 8601, tuples lists. Pure, so the store that writes payloads and the relay
and subscriptions that read them agree on one mapping.
"""

import types
from collections.abc import Mapping
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from apgraph.domain.events import (
    Event,
    InvoiceApprovalCompleted,
    InvoiceEscalated,
    InvoiceHeld,
    InvoiceMatched,
    InvoiceMatchFailed,
    InvoicePosted,
    InvoicePostingFailed,
    InvoiceReceived,
    InvoiceRejected,
    InvoiceReleased,
    InvoiceValidated,
    PaymentReleased,
    PaymentScheduled,
    RemittanceSent,
)
from apgraph.domain.ids import FacilityId, InvoiceId, SupplierId

E = TypeVar("E", bound=Event)

JsonValue = str | int | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
Payload = dict[str, JsonValue]

PAYLOAD_VERSION = 1
ENVELOPE_FIELDS = frozenset({"invoice_id", "supplier_id", "facility_id", "occurred_at"})

EVENT_TYPES: Mapping[str, type[Event]] = {
    cls.type: cls
    for cls in (
        InvoiceReceived,
        InvoiceValidated,
        InvoiceRejected,
        InvoiceMatched,
        InvoiceMatchFailed,
        InvoiceApprovalCompleted,
        InvoiceHeld,
        InvoiceReleased,
        InvoiceEscalated,
        InvoicePosted,
        InvoicePostingFailed,
        PaymentScheduled,
        PaymentReleased,
        RemittanceSent,
    )
}
"""Every event type by its wire name (DESIGN §5)."""


class PayloadError(ValueError):
    """A payload this version of apgraph cannot read back into its event."""


def to_payload(event: Event) -> Payload:
    """The event's own fields (not the envelope's) as canonical JSON, with the version."""
    payload: Payload = {"version": PAYLOAD_VERSION}
    for field in fields(event):
        if field.name not in ENVELOPE_FIELDS:
            payload[field.name] = _encoded(getattr(event, field.name), field.name)
    return payload


def from_payload(
    event_type: type[E],
    payload: Mapping[str, object],
    *,
    invoice_id: InvoiceId,
    supplier_id: SupplierId,
    facility_id: FacilityId,
    occurred_at: datetime,
) -> E:
    """The event again, exactly: amounts come back as the same Decimals."""
    if payload.get("version") != PAYLOAD_VERSION:
        raise PayloadError(f"{event_type.type}: payload version {payload.get('version')!r}")
    hints = get_type_hints(event_type)
    values: dict[str, Any] = {  # JSON enters here, and is narrowed field by field
        "invoice_id": invoice_id,
        "supplier_id": supplier_id,
        "facility_id": facility_id,
        "occurred_at": occurred_at,
    }
    for field in fields(event_type):
        if field.name in ENVELOPE_FIELDS:
            continue
        if field.name not in payload:
            raise PayloadError(f"{event_type.type}: the payload has no {field.name!r}")
        values[field.name] = _decoded(payload[field.name], hints[field.name], field.name)
    return event_type(**values)


def _encoded(value: object, name: str) -> JsonValue:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, Enum):
        return _encoded(value.value, name)
    if isinstance(value, tuple | list):
        return [_encoded(item, name) for item in value]
    raise TypeError(f"{name}: no canonical JSON for a {type(value).__name__} (floats never)")


def _decoded(value: object, hint: object, name: str) -> object:
    hint = getattr(hint, "__supertype__", hint)  # a NewType id is its str
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        if value is None:
            return None
        (inner,) = (arg for arg in get_args(hint) if arg is not type(None))
        return _decoded(value, inner, name)
    if origin is tuple:
        if not isinstance(value, list):
            raise PayloadError(f"{name}: expected a list, got {value!r}")
        (item_hint, *_) = get_args(hint)
        return tuple(_decoded(item, item_hint, name) for item in value)
    if not isinstance(value, str | int | bool):
        raise PayloadError(f"{name}: expected a string or number, got {value!r}")
    if hint is Decimal:
        return Decimal(str(value))
    if hint is datetime:
        return datetime.fromisoformat(str(value))
    if hint is date:
        return date.fromisoformat(str(value))
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if hint in (str, int, bool) and type(value) is hint:
        return value
    raise PayloadError(f"{name}: {value!r} is not a {hint}")
