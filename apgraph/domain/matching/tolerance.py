"""How far a billed figure may run over its base before an approver must look at it."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Tolerance:
    percent: Decimal  # "1.5" means 1.5 % of the base
    absolute: Decimal  # in the base's own unit: a unit of measure, or the invoice currency

    def __post_init__(self) -> None:
        if self.percent < 0 or self.absolute < 0:
            raise ValueError(f"a tolerance is never negative: {self.percent} %, {self.absolute}")

    def allowance_on(self, base: Decimal) -> Decimal:
        """Policy states both limits and the stricter one applies (DESIGN §4)."""
        return min(base * self.percent / 100, self.absolute)

    def exceeded_by(self, actual: Decimal, base: Decimal) -> bool:
        """Only an overrun counts, and only a strictly larger one: exactly at tolerance passes."""
        return actual - base > self.allowance_on(base)


NO_TOLERANCE = Tolerance(percent=Decimal(0), absolute=Decimal(0))
