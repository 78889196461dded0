"""Money: a Decimal amount in one currency. Never float, in any layer."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

# ISO 4217 minor units of the currencies the hospital networks we serve bill in.
MINOR_UNITS: dict[str, int] = {"USD": 2, "CAD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "JPY": 0}


class UnknownCurrency(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(f"unknown currency {code!r}; known: {', '.join(sorted(MINOR_UNITS))}")


def minor_units(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrency(currency) from None


def round_half_up(value: Decimal, places: int) -> Decimal:
    """The one rounding mode of the domain (line totals, tax): half away from zero."""
    return value.quantize(_quantum(places), ROUND_HALF_UP)  # positional: half the cost


@cache
def _quantum(places: int) -> Decimal:
    """1E-places, built once per precision: money is rounded hundreds of times a page."""
    return Decimal(1).scaleb(-places)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money needs a Decimal amount, got {type(self.amount).__name__}")
        minor_units(self.currency)

    @classmethod
    def of(cls, amount: str | Decimal, currency: str) -> "Money":
        """Money from a decimal string, rounded to the currency's minor units."""
        return cls(round_half_up(Decimal(amount), minor_units(currency)), currency)


_ONE = Decimal(1)  # made once: a Decimal costs as much to make as to round


def plain(value: Decimal) -> Decimal:
    """Without trailing zeros or an exponent: 5.0000 → 5, 0.0375 → 0.0375, 10 → 10 (not 1E+1)."""
    return value.quantize(_ONE) if value == value.to_integral_value() else value.normalize()


def at_minor_units(amount: Decimal, currency: str) -> Decimal:
    """As a finance reader expects it: 27286.7600 → 27286.76, a unit price 0.0375 kept whole."""
    shown = amount.quantize(_minor_unit(currency), ROUND_HALF_UP)  # round_half_up
    return shown if shown == amount else plain(amount)


@cache
def _minor_unit(currency: str) -> Decimal:
    """The currency's smallest unit (0.01 for USD), found once: every amount of a page is
    shown through `at_minor_units`. An unknown currency raises, and is not remembered."""
    return _quantum(minor_units(currency))
