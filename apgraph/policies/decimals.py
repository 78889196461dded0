"""Decimals as gateway.yaml must write them: quoted, so YAML never turns them into floats."""

from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator


def _not_a_float(value: object) -> object:
    if isinstance(value, float):
        raise ValueError(f'quote decimals ("{value}"): unquoted, YAML reads {value} as a float')
    return value


QuotedDecimal = Annotated[Decimal, BeforeValidator(_not_a_float)]
"""A Decimal from a string or an integer; a YAML float is refused, never rounded into one."""
