"""Money in GraphQL: a Decimal amount (serialized as a string, never a float) and its currency."""

from decimal import Decimal
from typing import Self

import strawberry

from apgraph.domain.money import at_minor_units
from apgraph.schema.batched import stored_field


@strawberry.type(name="Money", description="An exact amount in one currency.")
class MoneyType:
    amount: Decimal = stored_field('Decimal string, e.g. "1250.00".')
    currency: str = stored_field("ISO 4217 code, e.g. USD.")

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> Self:
        return cls(amount=at_minor_units(amount, currency), currency=currency)
