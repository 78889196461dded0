"""Column types that behave the same on PostgreSQL and SQLite."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

SCALE = 4  # digits after the point for amounts, unit prices and quantities
_FACTOR = Decimal(10) ** SCALE
_QUANTUM = Decimal(1).scaleb(-SCALE)  # 0.0001


_POSTGRES_NUMERIC = 1700  # the type OID a result column of type NUMERIC carries
_POSTGRES_TIMESTAMPTZ = 1184  # ... and one of type TIMESTAMP WITH TIME ZONE


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal that round-trips exactly on both databases.

    PostgreSQL stores NUMERIC(19, 4). SQLite has no exact decimal (its NUMERIC affinity goes
    through float), so there the value is a scaled integer: exact, sortable and summable.
    A value with more than four decimals is refused rather than silently rounded.
    """

    impl = Numeric(19, SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(19, SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"ExactDecimal takes a Decimal, got {type(value).__name__}")
        scaled = value * _FACTOR
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {SCALE} decimal places")
        return int(scaled) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """None (nothing to do per value) for a NUMERIC result that the driver already
        answers with a Decimal, as asyncpg does: a portal page reads ~450 amounts (issue 19).
        Any other result type (an integer expression typed as an amount) still becomes a
        Decimal here, since the driver passes those through as they come."""
        if dialect.name == "postgresql" and coltype == _POSTGRES_NUMERIC:
            driver = self.load_dialect_impl(dialect).result_processor(dialect, coltype)
            if driver is None:
                return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / _FACTOR).quantize(_QUANTUM)
        return Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on both databases.

    SQLite's DATETIME drops the offset; we store UTC there and put the offset back on read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC datetime")
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """None for a TIMESTAMPTZ result that the driver answers with an aware UTC datetime
        already, as asyncpg does (its codec always gives datetime.timezone.utc, whatever the
        session's time zone): nothing left to do per value (a portal page reads ~50)."""
        if dialect.name == "postgresql" and coltype == _POSTGRES_TIMESTAMPTZ:
            driver = self.load_dialect_impl(dialect).result_processor(dialect, coltype)
            if driver is None and dialect.driver == "asyncpg":
                return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
