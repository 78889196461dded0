"""Scalars stricter than strawberry's defaults, where money is at stake."""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

import strawberry
from strawberry.types.scalar import ScalarDefinition


def _decimal_from_string(value: object) -> Decimal:
    """Amounts arrive as decimal strings ("10.50"): a JSON number has passed through float,
    so 0.1 may already be 0.1000000000000000055…; refuse it rather than guess."""
    if not isinstance(value, str):
        raise ValueError(f'amounts are decimal strings, e.g. "10.50", not {type(value).__name__}')
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not parsed.is_finite():
        raise ValueError(f"{value!r} is not a finite decimal number")
    return parsed


STRICT_DECIMAL = strawberry.scalar(
    name="Decimal",
    description='An exact decimal number, always as a string: "1250.00".',
    serialize=str,
    parse_value=_decimal_from_string,
)

# Every Decimal in the schema, input or output, maps to the strict scalar.
SCALAR_MAP: Mapping[object, ScalarDefinition] = {Decimal: STRICT_DECIMAL}
