from decimal import Decimal

import pytest

from apgraph.domain.money import Money, UnknownCurrency, at_minor_units, plain, round_half_up


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("2.345", 2, "2.35"),
        ("2.344", 2, "2.34"),
        ("-2.345", 2, "-2.35"),  # half away from zero
        ("10.5", 0, "11"),
    ],
)
def test_rounding_is_half_up(value, places, expected):
    assert round_half_up(Decimal(value), places) == Decimal(expected)


def test_money_rounds_to_the_currency_minor_units():
    assert Money.of("12.345", "USD").amount == Decimal("12.35")
    assert Money.of("1200.5", "JPY").amount == Decimal("1201")


def test_money_refuses_float_amounts_and_unknown_currencies():
    with pytest.raises(TypeError):
        Money(0.1, "USD")  # type: ignore[arg-type]
    with pytest.raises(UnknownCurrency):
        Money.of("1.00", "XXX")


@pytest.mark.parametrize(
    ("stored", "currency", "shown"),
    [
        ("27286.7600", "USD", "27286.76"),
        ("0.0375", "USD", "0.0375"),  # a unit price finer than a cent stays exact
        ("10.0000", "USD", "10.00"),
        ("1200.0000", "JPY", "1200"),
    ],
)
def test_amounts_are_shown_at_the_currency_minor_units_unless_finer(stored, currency, shown):
    assert str(at_minor_units(Decimal(stored), currency)) == shown


@pytest.mark.parametrize(
    ("value", "shown"), [("5.0000", "5"), ("10", "10"), ("0.0825", "0.0825"), ("2.5000", "2.5")]
)
def test_plain_drops_trailing_zeros_and_never_uses_an_exponent(value, shown):
    assert str(plain(Decimal(value))) == shown
