"""Vendor values → canonical values, each failure a ConnectorMappingError naming the field.

The mapping modules pass in their vendor's field names; nothing here knows any. Amounts must
arrive as decimal strings (or as JSON numbers already decoded to Decimal), never as float.
"""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import ConnectorMappingError


def member(system: ExternalSystem, source: object, name: str) -> Any:
    """`source[name]` of a JSON object; missing (or not an object) is a mapping error."""
    if not isinstance(source, Mapping):
        raise ConnectorMappingError(system, name, f"expected an object, got {_kind(source)}")
    if name not in source or source[name] is None:
        raise ConnectorMappingError(system, name, "missing")
    return source[name]


def items(system: ExternalSystem, source: object, name: str) -> list[Any]:
    value = member(system, source, name)
    if not isinstance(value, list):
        raise ConnectorMappingError(system, name, f"expected a list, got {_kind(value)}")
    return value


def text(system: ExternalSystem, name: str, raw: object) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ConnectorMappingError(system, name, f"expected text, got {_kind(raw)}")
    value = str(raw).strip()
    if not value:
        raise ConnectorMappingError(system, name, "empty")
    return value


def amount(system: ExternalSystem, name: str, raw: object) -> Decimal:
    if isinstance(raw, float):
        raise ConnectorMappingError(system, name, "a float cannot carry money exactly")
    if isinstance(raw, Decimal):
        value = raw
    else:
        try:
            value = Decimal(text(system, name, raw))
        except InvalidOperation:
            raise ConnectorMappingError(system, name, f"not a decimal: {raw!r}") from None
    if not value.is_finite():
        raise ConnectorMappingError(system, name, f"not a finite amount: {raw!r}")
    return value


def integer(system: ExternalSystem, name: str, raw: object) -> int:
    try:
        return int(text(system, name, raw))
    except ValueError:
        raise ConnectorMappingError(system, name, f"not an integer: {raw!r}") from None


def day(system: ExternalSystem, name: str, raw: object) -> date:
    try:
        return date.fromisoformat(text(system, name, raw))
    except ValueError:
        raise ConnectorMappingError(system, name, f"not a date (YYYY-MM-DD): {raw!r}") from None


def instant(system: ExternalSystem, name: str, raw: object) -> datetime:
    """An aware timestamp; one without a zone is refused rather than guessed."""
    try:
        value = datetime.fromisoformat(text(system, name, raw))
    except ValueError:
        raise ConnectorMappingError(system, name, f"not a timestamp: {raw!r}") from None
    if value.tzinfo is None:
        raise ConnectorMappingError(system, name, f"timestamp without a zone: {raw!r}")
    return value


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__
