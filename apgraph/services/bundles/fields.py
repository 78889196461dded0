"""One bundle record read field by field, each failure written down as one problem.

Both forms arrive here: a CSV row (every value a string, an empty cell meaning "not given")
and a JSON object (whose types the JSON Schema has already checked). A failed field yields a
typed placeholder and marks the record failed, so every field of a record is reported, not
only the first; the caller discards a failed record's value.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import TypeVar

from apgraph.domain.bundle import BundleCode, BundleProblem
from apgraph.domain.ids import EntityKind, InvalidId
from apgraph.domain.systems import ERPS, ExternalSystem

E = TypeVar("E", bound=Enum)

AMOUNT_PLACES = 4  # prices: the ExactDecimal column stores NUMERIC(19, 4)
QUANTITY_PLACES = 4
RATE_PLACES = 4  # tax rates are stored in the same column type
INTEGER_DIGITS = 15  # 19 digits in all, 4 of them after the point

_DECIMAL = re.compile(r"-?(\d+)(?:\.(\d+))?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_TRUE, _FALSE = "true", "false"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record sits: a CSV row ("row 4") or a JSON object ("/suppliers/3")."""

    file: str
    location: str
    pointer: bool  # JSON: a field's location is the pointer to its value
    nested: tuple[tuple[str, str], ...] = ()  # JSON: field → path below the object

    def json_path(self, field: str) -> str:
        return dict(self.nested).get(field, field)

    def at(self, field: str | None) -> str:
        if self.pointer and field:
            return f"{self.location}/{self.json_path(field)}"
        return self.location

    def problem(self, field: str | None, code: BundleCode, message: str) -> BundleProblem:
        shown = self.json_path(field).replace("/", ".") if self.pointer and field else field
        return BundleProblem(self.file, self.at(field), shown, code, message)


@dataclass(frozen=True, slots=True)
class Record:
    """The raw values of one entity; `blocked` fields were already reported by the reader
    (a missing CSV column, a JSON value of the wrong type) and are skipped silently."""

    source: Source
    values: Mapping[str, object]
    blocked: frozenset[str] = frozenset()


class Fields:
    """Typed reads of one record. A failed read returns a placeholder and sets `failed`."""

    def __init__(self, record: Record, problems: list[BundleProblem]) -> None:
        self._record = record
        self._problems = problems
        self._failed: set[str | None] = set()

    @property
    def failed(self) -> bool:
        return bool(self._failed)

    def ok(self, *names: str) -> bool:
        """None of these fields failed (so a rule across them may be checked)."""
        return not self._failed.intersection(names)

    def fail(self, field: str | None, code: BundleCode, message: str) -> None:
        self._failed.add(field)
        self._problems.append(self._record.source.problem(field, code, message))

    def _given(self, name: str) -> object | None:
        """The value, or None when it is absent, null, or an empty (blank) cell."""
        if name in self._record.blocked:
            self._failed.add(name)
            return None
        value = self._record.values.get(name)
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def _required(self, name: str) -> object | None:
        blocked = name in self._record.blocked
        value = self._given(name)
        if value is None and not blocked:
            self.fail(name, BundleCode.REQUIRED, "is required")
        return value

    def has(self, name: str) -> bool:
        return self._given(name) is not None

    def text(self, name: str, *, max_length: int) -> str:
        value = self._required(name)
        if value is None:
            return ""
        return self._checked_text(name, value, max_length)

    def optional_text(self, name: str, *, max_length: int) -> str | None:
        value = self._given(name)
        if value is None:
            return None
        return self._checked_text(name, value, max_length)

    def _checked_text(self, name: str, value: object, max_length: int) -> str:
        text = str(value)
        if len(text) > max_length:
            self.fail(name, BundleCode.INVALID_VALUE, f"longer than {max_length} characters")
        return text

    def id(self, name: str, kind: EntityKind) -> str:
        value = self._required(name)
        if value is None:
            return ""
        raw = str(value)
        if not kind.matches(raw):
            self.fail(name, BundleCode.INVALID_ID, str(InvalidId(kind, raw)))
            return ""
        return raw

    def enum(self, name: str, enum: type[E]) -> E:
        members = list(enum)
        value = self._required(name)
        if value is None:
            return members[0]
        for member in members:
            if member.value == value:
                return member
        allowed = ", ".join(str(member.value) for member in members)
        self.fail(name, BundleCode.INVALID_VALUE, f"{_shown(value)} is not one of {allowed}")
        return members[0]

    def erp(self, name: str) -> ExternalSystem:
        """An ERP by its short name (`legacy`, `cloud`), as bundles write it, or its system
        name (`legacy_erp`)."""
        value = self._required(name)
        if value is None:
            return ERPS[0]
        try:
            return ExternalSystem.erp_named(str(value))
        except ValueError as error:
            self.fail(name, BundleCode.INVALID_VALUE, str(error))
            return ERPS[0]

    def boolean(self, name: str) -> bool:
        value = self._required(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        lowered = str(value).lower()
        if lowered in (_TRUE, _FALSE):
            return lowered == _TRUE
        self.fail(name, BundleCode.INVALID_VALUE, f"{_shown(value)} is not true or false")
        return False

    def line_no(self, name: str) -> int:
        """A positive whole number; CSV digits or a JSON integer."""
        value = self._required(name)
        if value is None:
            return 0
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif (isinstance(value, float) and value.is_integer()) or (
            isinstance(value, str) and value.isascii() and value.isdigit()
        ):
            number = int(value)
        if number is None or number < 1:
            self.fail(
                name, BundleCode.INVALID_VALUE, f"{_shown(value)} is not a line number (1, 2, …)"
            )
            return 0
        return number

    def currency(self, name: str) -> str:
        value = self._required(name)
        if value is None:
            return ""
        if not _CURRENCY.fullmatch(str(value)):
            self.fail(
                name, BundleCode.INVALID_VALUE, f"{_shown(value)} is not an ISO 4217 code (USD)"
            )
            return ""
        return str(value)

    def names(self, name: str) -> tuple[str, ...]:
        """User ids: a JSON array, or one CSV cell separated by `;`."""
        value = self._given(name)
        if value is None:
            return ()
        items = [str(item) for item in value] if isinstance(value, list) else str(value).split(";")
        stripped = tuple(item.strip() for item in items)
        if any(not item or re.search(r"[\s;]", item) for item in stripped):
            self.fail(name, BundleCode.INVALID_VALUE, "user ids are non-empty, without spaces or ;")
        return stripped

    def decimal(self, name: str, *, places: int) -> Decimal:
        """A decimal string of at most `places` decimals, of either sign."""
        value = self._decimal(name, places=places)
        return Decimal(0) if value is None else value

    def amount(self, name: str) -> Decimal:
        """A price: at most four decimals, never negative."""
        value = self._decimal(name, places=AMOUNT_PLACES)
        if value is None:
            return Decimal(0)
        if value < 0:
            self.fail(name, BundleCode.INVALID_AMOUNT, f"{value} is negative")
        return value

    def quantity(self, name: str) -> Decimal:
        """Strictly positive: a negative is NEGATIVE_QUANTITY, zero is INVALID_VALUE."""
        value = self._decimal(name, places=QUANTITY_PLACES)
        if value is None:
            return Decimal(0)
        if value < 0:
            self.fail(name, BundleCode.NEGATIVE_QUANTITY, f"{value} is negative")
        elif value == 0:
            self.fail(name, BundleCode.INVALID_VALUE, "must be greater than zero")
        return value

    def _decimal(self, name: str, *, places: int) -> Decimal | None:
        value = self._required(name)
        if value is None:
            return None
        match = _DECIMAL.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            self.fail(
                name,
                BundleCode.INVALID_AMOUNT,
                f"{_shown(value)} is not a decimal string (digits, one '.', no exponent)",
            )
            return None
        whole, fraction = match.group(1), match.group(2) or ""
        if len(fraction) > places:
            self.fail(
                name,
                BundleCode.INVALID_AMOUNT,
                f"{value} has {len(fraction)} decimal places; at most {places} are allowed",
            )
            return None
        if len(whole.lstrip("0")) > INTEGER_DIGITS:
            self.fail(
                name,
                BundleCode.INVALID_AMOUNT,
                f"{value} has more than {INTEGER_DIGITS} digits before the point",
            )
            return None
        return Decimal(str(value))

    def date(self, name: str) -> date:
        value = self._required(name)
        if value is None:
            return date.min
        raw = str(value)
        if _DATE.fullmatch(raw):
            try:
                return date.fromisoformat(raw)
            except ValueError:
                pass
        self.fail(name, BundleCode.INVALID_DATE, f"{_shown(value)} is not a date (YYYY-MM-DD)")
        return date.min

    def timestamp(self, name: str) -> datetime:
        """ISO 8601 with a timezone offset (or Z); returned in UTC."""
        value = self._required(name)
        fallback = datetime.min.replace(tzinfo=UTC)
        if value is None:
            return fallback
        raw = str(value)
        try:
            parsed = datetime.fromisoformat(raw) if "T" in raw else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.fail(
                name,
                BundleCode.INVALID_DATE,
                f"{_shown(value)} is not a timestamp with a timezone (2026-01-10T13:17:45Z)",
            )
            return fallback
        return parsed.astimezone(UTC)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"
