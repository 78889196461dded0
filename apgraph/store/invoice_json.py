"""A page of invoices as the JSON of its connection, built by PostgreSQL (issue 19).

The fast path of reads (gateway/fast_reads.py) made, for every invoice of a page, a domain
object, a GraphQL object and a dict of its selected fields, and then encoded them: about
5 ms of a portal page's 6.6 ms of CPU, where the request around it costs about 1.2 ms. When
every key an operation selects under `invoices` is something this module renders
(`Selected`: stored names, not GraphQL ones), PostgreSQL builds that whole answer in the
page's own statement instead, as JSON text (`JoinedText`), which the HTTP response carries
as written (gateway/app.py, `Context.embeds_json`). The page is the same subquery
`page_with_orders` reads (the caller's row scoping, the filter, the keyset and the limit),
its purchase orders and cost centers joined under their own scoping, a visible supplier
joined as the supplier reader sees it, lines reached only through their invoice; a total
count is of the same scope and filter, whatever the cursor. Anything else is
`NotRendered`, and the caller builds the answer.

Each value is written as the schema serializes it, and the fast path's equivalence tests
compare the two field for field: dates as ISO dates; a Decimal as its plain text (`plain`:
no trailing zeros, no exponent; NUMERIC(19, 4) is never small enough for one); an amount
at its currency's minor units, rounded half away from zero, unless that would change it
(`at_minor_units`); a stored code by its enum name; a cursor as `encode_cursor` makes it.
Keys, type names and codes are written into the SQL as literals, each checked to be a
GraphQL name or a stored code first; no other value of a request is.

A value the schema could not show (a stored code its enum does not know, as a newer server
may write during a rolling deploy; an amount in a currency without minor units) would be a
null where the schema promises a value, where the object path raises and the generic
executor answers an error. So the statement also answers whether every rendered code and
amount was known (`renderable`), and the caller takes the object path when one was not.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    Text,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from apgraph.domain.money import MINOR_UNITS
from apgraph.services.ports.reads import CURSOR_PREFIX, Selected, Selection
from apgraph.store.tables import InvoiceLineRow

_lines = InvoiceLineRow.__table__.c
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*\Z")  # a GraphQL name: a key, a type's name
_CODE = re.compile(r"[0-9A-Za-z_.\-]+\Z")  # a stored code
MINOR_UNITS_COLUMN = "minor_units"  # the page's: its invoice currency's (`minor_units`)


class NotRendered(Exception):
    """The selection names something this module does not render: the caller answers."""


Column = Callable[[str], ColumnElement[Any]]  # a record's stored column, by name
Checks = list[ColumnElement[bool]]  # what must hold of each row for its JSON to be right


@dataclass(frozen=True, slots=True)
class PageColumns:
    """Where a page's records are: the page subquery (the invoices' own columns, the joined
    purchase orders' and cost centers' under their prefixes, `number`: 1, 2, … in the
    page's order, MINOR_UNITS_COLUMN), and the visible suppliers to join it to; the page
    reads `first` + 1 rows (one more tells whether more follow), after a cursor when
    `continued`. `facilities`: the visible facilities, joined only when a page selects its
    invoices' facility. `matching`: how many invoices the page's scope and filter hold, whatever
    the cursor (a scalar subquery, run only when `totalCount` is selected)."""

    page: Subquery
    order_prefix: str
    center_prefix: str
    suppliers: Subquery
    facilities: Subquery
    first: int
    continued: bool
    matching: ColumnElement[Any]

    def invoice(self, name: str) -> ColumnElement[Any]:
        return self.page.c[name]

    def order(self, name: str) -> ColumnElement[Any]:
        return self.page.c[self.order_prefix + name]

    def center(self, name: str) -> ColumnElement[Any]:
        return self.page.c[self.center_prefix + name]

    def supplier(self, name: str) -> ColumnElement[Any]:
        return self.suppliers.c[name]

    def facility(self, name: str) -> ColumnElement[Any]:
        return self.facilities.c[name]


def page_json(columns: PageColumns, selection: Selection) -> Select[Any]:
    """One row: `answer`, the JSON text of the connection (`selection` of its `edges` and
    `page_info`), and `renderable`, whether every code and amount rendered was known (see
    the module docstring). Raises NotRendered for what it does not render."""
    page, first = columns.page, columns.first
    kept = page.c.number <= first
    checks: Checks = []
    relations: set[str] = set()  # the invoices' relations the selection renders

    def edge(selected: Selected) -> ColumnElement[Any]:
        if selected.name == "cursor":
            return _quoted(as_cursor(page.c.id))
        if selected.name == "node" and selected.fields is not None:
            return _object(selected.fields, lambda s: _invoice(columns, s, checks, relations))
        raise NotRendered(f"an edge's {selected.name}")

    def page_info(selected: Selected) -> ColumnElement[Any]:
        if selected.name == "has_next_page":
            return case((func.count() > first, _json("true")), else_=_json("false"))
        if selected.name == "has_previous_page":
            return _json("true" if columns.continued else "false")
        if selected.name == "start_cursor":
            return _quoted(as_cursor(func.min(page.c.id).filter(kept)))
        if selected.name == "end_cursor":
            return _quoted(as_cursor(func.max(page.c.id).filter(kept)))
        raise NotRendered(f"pageInfo's {selected.name}")

    def connection(selected: Selected) -> ColumnElement[Any]:
        if selected.name == "edges" and selected.fields is not None:
            return _array(_object(selected.fields, edge), page.c.number, kept)
        if selected.name == "page_info" and selected.fields is not None:
            return _object(selected.fields, page_info)
        if selected.name == "total_count" and selected.fields is None:
            return as_json(columns.matching)
        raise NotRendered(f"a connection's {selected.name}")

    answer = _object(selection, connection)
    renderable = func.coalesce(func.bool_and(and_(true(), *checks)).filter(kept), true())
    joined = page.outerjoin(columns.suppliers, columns.suppliers.c.id == page.c.supplier_id)
    if "facility" in relations:  # a join PostgreSQL makes only when the page shows it
        facilities = columns.facilities
        joined = joined.outerjoin(facilities, facilities.c.id == page.c.facility_id)
    return (
        select(answer.label("answer"))
        .add_columns(renderable.label("renderable"))
        .select_from(joined)
        # one row whatever the page and selection (`renderable` is an aggregate too, but
        # without one, pageInfo's hasPreviousPage alone would answer a row per invoice)
        .having(true())
    )


class JoinedText(ColumnElement[str]):
    """Text parts joined by `||` in one flat expression: the JSON is written as text.

    Written by hand because neither SQLAlchemy nor PostgreSQL has this at its cost:
    `json_build_object` looks up each argument's type and output function on every call
    (about 3.4 µs per invoice object against 1.1 µs for `||` on this machine: 30 % of the
    portal page's statement), `concat()` does the same lookups, and SQLAlchemy's `+` nests
    one level per part (a wide selection would reach Python's recursion limit compiling it).
    Every part must be text, and none null (a null would make the whole null): the
    renderers below answer JSON's `null` for a missing value themselves."""

    type = Text()
    inherit_cache = False  # compiled once per kept statement (kept_page_json), not per run
    parts: list[str | ColumnElement[Any]]

    def __init__(self, parts: list[str | ColumnElement[Any]]) -> None:
        """`parts`: JSON text written into the SQL (each checked by `_json`) and
        expressions; a part that is itself joined text is spliced in (PostgreSQL would
        build it apart and copy it again), adjacent literal pieces written as one."""
        merged: list[str | ColumnElement[Any]] = []
        for part in parts:
            for piece in part.parts if isinstance(part, JoinedText) else [part]:
                if isinstance(piece, str) and merged and isinstance(merged[-1], str):
                    merged[-1] += piece
                else:
                    merged.append(piece)
        self.parts = merged
        self.sql_parts = [_json(part) if isinstance(part, str) else part for part in merged]


@compiles(JoinedText)
def _compile_joined_text(element: JoinedText, compiler: SQLCompiler, **kw: Any) -> str:
    return "(" + " || ".join(compiler.process(part, **kw) for part in element.sql_parts) + ")"


def _json(text: str) -> ColumnElement[Any]:
    """JSON text written into the SQL: JSON's punctuation, words and checked names only."""
    if "'" in text or "\\" in text:
        raise NotRendered(f"{text!r} is not written into SQL")
    return literal_column(f"'{text}'", Text)


def _object(selection: Selection, render: Callable[[Selected], ColumnElement[Any]]) -> Any:
    """A JSON object of the selection's keys in order, each value the JSON text `render`
    gives (a type name by itself); {} when every key was skipped, as GraphQL answers."""
    parts: list[str | ColumnElement[Any]] = ["{"]
    for index, selected in enumerate(selection):
        key = _name(selected.key)
        parts.append(f'{"," if index else ""}"{key}":')
        if selected.constant is not None:
            parts.append(f'"{_name(selected.constant)}"')
        else:
            parts.append(render(selected))
    parts.append("}")
    return JoinedText(parts)


def _array(
    element: ColumnElement[Any], order: ColumnElement[Any], kept: ColumnElement[bool] | None
) -> ColumnElement[Any]:
    """The JSON array of `element` over the rows (those `kept`), in `order`; [] for none."""
    aggregated = func.string_agg(element, aggregate_order_by(_json(","), order))
    items = aggregated if kept is None else aggregated.filter(kept)
    return func.coalesce(JoinedText(["[", items, "]"]), _json("[]"))


def _name(text: str) -> str:
    """A key, type name or enum name written into the SQL: only ever a GraphQL name."""
    if not _NAME.match(text):
        raise NotRendered(f"{text!r} is not written into SQL")
    return text


def _text_literal(text: str, pattern: re.Pattern[str]) -> ColumnElement[Any]:
    """A stored code written into the SQL: only ever one the pattern allows."""
    if not pattern.match(text):
        raise NotRendered(f"{text!r} is not written into SQL")
    return literal_column(f"'{text}'", Text)


def as_json(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """A text, integer or boolean as its JSON (a text quoted and escaped by `to_json`);
    `null` for none."""
    return func.coalesce(cast(func.to_json(value), Text), _json("null"))


def _quoted(text: ColumnElement[Any]) -> ColumnElement[Any]:
    """A text that needs no escaping (a date, a decimal, a cursor) as a JSON string;
    `null` for none."""
    return func.coalesce(JoinedText(['"', text, '"']), _json("null"))


def as_cursor(invoice_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """`encode_cursor`: URL-safe base64 of "apgraph:" and the ID (PostgreSQL's base64 breaks
    lines every 76 characters and uses + and /: the newlines are dropped, the rest mapped)."""
    encoded = func.encode(
        func.convert_to(
            literal_column(f"'{CURSOR_PREFIX}'") + invoice_id, literal_column("'UTF8'")
        ),
        literal_column("'base64'"),
    )
    return func.translate(encoded, literal_column("E'+/\\n'"), literal_column("'-_'"))


def as_date(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.to_char(column, literal_column("'YYYY-MM-DD'"))


def as_datetime(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """An aware UTC datetime's `isoformat()`: microseconds only when there are any, and the
    +00:00 offset (a timestamptz is read in UTC whatever the session's time zone)."""
    utc = func.timezone(literal_column("'UTC'"), column)
    micro = func.to_char(utc, literal_column("'US'"))
    return (
        func.to_char(utc, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS'"))
        + case((micro == literal_column("'000000'"), literal_column("''")), else_="." + micro)
        + literal_column("'+00:00'")
    )


def as_plain(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """`domain.money.plain` as text: no trailing zeros (5.0000 → 5, 0.0375 → 0.0375)."""
    return cast(func.trim_scale(column), Text)


def minor_units(currency: ColumnElement[Any]) -> ColumnElement[Any]:
    """The currency's minor units (`domain.money.MINOR_UNITS`); null for one it does not know.
    A page reads it once per invoice, for all of the invoice's amounts."""
    return case(
        *(
            (currency == _text_literal(code, _CODE), literal_column(str(int(units))))
            for code, units in MINOR_UNITS.items()
        )
    )


def as_amount(amount: ColumnElement[Any], places: ColumnElement[Any]) -> ColumnElement[Any]:
    """`domain.money.at_minor_units` as text, `places` the currency's `minor_units`: at
    those places (round() rounds half away from zero, as ROUND_HALF_UP does) unless that
    changes it, then plain. An unknown currency, which `at_minor_units` refuses, has no
    minor units: null."""
    rounded = func.round(amount, cast(places, Integer))
    return case(
        (places.is_(None), null()),  # no minor units: an unknown currency
        (rounded == amount, cast(rounded, Text)),
        else_=as_plain(amount),
    )


def _code(column: ColumnElement[Any], selected: Selected, checks: Checks) -> ColumnElement[Any]:
    """A stored code as its enum name; a code the enum does not know is null, and fails
    the page's `renderable`."""
    if selected.names is None:
        raise NotRendered(f"{selected.key}: a code without names")
    known = [_text_literal(stored, _CODE) for stored, _ in selected.names]
    checks.append(or_(column.is_(None), column.in_(known)))
    return case(
        *(
            (column == _text_literal(stored, _CODE), _json(f'"{_name(name)}"'))
            for stored, name in selected.names
        ),
        else_=_json("null"),
    )


def _money(
    amount: ColumnElement[Any],
    currency: ColumnElement[Any],
    places: ColumnElement[Any],
    selected: Selected,
    checks: Checks,
) -> Any:
    def field(s: Selected) -> ColumnElement[Any]:
        if s.name == "amount":
            checks.append(places.is_not(None))  # a currency with minor units
            return _quoted(as_amount(amount, places))
        if s.name == "currency":
            return as_json(currency)
        raise NotRendered(f"money's {s.name}")

    if selected.fields is None:
        raise NotRendered(f"{selected.key}: money without fields")
    return _object(selected.fields, field)


# a stored value as JSON, given what was selected of it and the page's checks
Leaf = Callable[[ColumnElement[Any], Selected, Checks], ColumnElement[Any]]


def _value_alone(render: Callable[[ColumnElement[Any]], ColumnElement[Any]]) -> Leaf:
    """A leaf rendered from its value alone (no enum names, nothing to check)."""
    return lambda value, _selected, _checks: render(value)


_as_is = _value_alone(as_json)  # text, integers and booleans


def _finite(render: Callable[[ColumnElement[Any]], ColumnElement[Any]]) -> Leaf:
    """A date or moment: PostgreSQL's infinity (which asyncpg reads as date.max, and the
    object path shows so) has no `to_char`, so it fails the page's `renderable`."""

    def leaf(value: ColumnElement[Any], _selected: Selected, checks: Checks) -> Any:
        checks.append(or_(value.is_(None), func.isfinite(value)))
        return _quoted(render(value))

    return leaf


_date = _finite(as_date)
_datetime = _finite(as_datetime)
_plain = _value_alone(lambda value: _quoted(as_plain(value)))


# what each record renders of its stored values, and how (its relations: `_invoice`)
_INVOICE: Mapping[str, Leaf] = {
    "id": _as_is,
    "supplier_invoice_number": _as_is,
    "erp_document_ref": _as_is,
    "invoice_date": _date,
    "due_date": _date,
    "received_at": _datetime,
    "status": _code,
}
_ORDER: Mapping[str, Leaf] = {
    "id": _as_is,
    "currency": _as_is,
    "ordered_on": _date,
    "status": _code,
}
_CENTER: Mapping[str, Leaf] = {"id": _as_is, "code": _as_is, "name": _as_is, "active": _as_is}
_SUPPLIER: Mapping[str, Leaf] = {"id": _as_is, "legal_name": _as_is, "status": _code}
_FACILITY: Mapping[str, Leaf] = {"id": _as_is, "name": _as_is, "region": _as_is, "timezone": _as_is}
_LINE: Mapping[str, Leaf] = {
    "line_no": _as_is,
    "po_line_no": _as_is,
    "item_id": _as_is,
    "description": _as_is,
    "unit_of_measure": _as_is,
    "quantity": _plain,
}


def _record(
    column: Column, leaves: Mapping[str, Leaf], selected: Selected, checks: Checks
) -> ColumnElement[Any]:
    """A leaf of a record, as `leaves` renders it."""
    leaf = leaves.get(selected.name or "")
    if leaf is None or selected.fields is not None:
        raise NotRendered(f"{selected.name!r} is no leaf this record renders")
    return leaf(column(selected.name or ""), selected, checks)


def _invoice(
    columns: PageColumns, selected: Selected, checks: Checks, relations: set[str]
) -> ColumnElement[Any]:
    name = selected.name
    if name is not None:
        relations.add(name)
    currency, places = columns.invoice("currency"), columns.invoice(MINOR_UNITS_COLUMN)
    if name in ("subtotal", "tax", "total"):
        return _money(columns.invoice(name), currency, places, selected, checks)
    if name == "purchase_order":
        return _joined(columns.order("id"), columns.order, _ORDER, selected, checks)
    if name == "cost_center":
        return _joined(columns.center("id"), columns.center, _CENTER, selected, checks)
    if name == "supplier":
        return _joined(columns.supplier("id"), columns.supplier, _SUPPLIER, selected, checks)
    if name == "facility":
        return _joined(columns.facility("id"), columns.facility, _FACILITY, selected, checks)
    if name == "lines":
        return _lines_json(columns, selected, checks)
    return _record(columns.invoice, _INVOICE, selected, checks)


def _joined(
    key: ColumnElement[Any],
    column: Column,
    leaves: Mapping[str, Leaf],
    selected: Selected,
    checks: Checks,
) -> ColumnElement[Any]:
    """A joined record, or null where none joined (none referenced, or hidden from the
    caller: its by-id read answers null too)."""
    if selected.fields is None:
        raise NotRendered(f"{selected.key} without fields")
    built = _object(selected.fields, lambda s: _record(column, leaves, s, checks))
    return case((key.is_(None), _json("null")), else_=built)


def _lines_json(columns: PageColumns, selected: Selected, checks: Checks) -> ColumnElement[Any]:
    """The invoice's lines in line order ([] for none), each with its amounts in the
    invoice's currency (whose minor units the page checks, as for the invoice's own). The
    page's checks are of its own rows: a line's leaf that needs one (a code) would have to
    be checked in this subquery, so `_LINE` has none."""
    if selected.fields is None:
        raise NotRendered("lines without fields")
    currency, places = columns.invoice("currency"), columns.invoice(MINOR_UNITS_COLUMN)

    def line(s: Selected) -> ColumnElement[Any]:
        if s.name in ("unit_price", "amount"):
            return _money(_lines[s.name], currency, places, s, checks)
        return _record(lambda name: _lines[name], _LINE, s, checks)

    built = _array(_object(selected.fields, line), _lines.line_no, None)
    return select(built).where(_lines.invoice_id == columns.invoice("id")).scalar_subquery()


@lru_cache(maxsize=1024)
def kept_page_json(columns: PageColumns, selection: Selection) -> Select[Any] | None:
    """`page_json`, built once per kind of page and selection; None (kept too) for a
    selection it does not render."""
    try:
        return page_json(columns, selection)
    except NotRendered:
        return None
