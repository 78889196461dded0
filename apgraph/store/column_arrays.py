"""Many rows in one PostgreSQL statement that SQLAlchemy compiles once: as column arrays.

A multi-row `insert().values([...])` and a `values().data(...)` construct are never cached by
SQLAlchemy: each execution compiles the statement anew, and in a submission those writes
were about a quarter of the server's CPU (issue 19). Sent instead as one array per column,
`unnest($1::VARCHAR[], $2::TIMESTAMP WITH TIME ZONE[], …)`, the statement is the same
whatever the rows and their number: built once (a module constant), compiled once, and one
prepared statement in asyncpg; each execution passes only the arrays (`array_params`).

PostgreSQL only; SQLite keeps the multi-row forms (a local file: no round trip to save).
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    String,
    Text,
    bindparam,
    cast,
    column,
    func,
    select,
)
from sqlalchemy import table as sql_table
from sqlalchemy.sql.selectable import FromClause, Select, TableClause, TableValuedAlias
from sqlalchemy.types import TypeEngine

POSITION = "position"  # each row's place in the arrays, from 1


def _element_type(declared: TypeEngine[Any]) -> TypeEngine[Any]:
    """What the array holds for a column of type `declared`. VARCHAR(n) goes unbounded: a
    cast to VARCHAR(n) would cut a longer value short, where the INSERT's own assignment to
    the column refuses it, as before. JSON goes as text (see `_array_value`)."""
    if isinstance(declared, JSON):
        return Text()
    if type(declared) is String:
        return String()
    return declared


def _array_value(declared: TypeEngine[Any], value: Any) -> Any:
    """A JSON value is serialized here, as SQLAlchemy's JSON type does (json.dumps: the
    engines set no other serializer): an ARRAY of JSON would take a JSON list for another
    dimension of the array."""
    if isinstance(declared, JSON):
        return json.dumps(value)
    return value


def widened(
    name: str, table: FromClause, names: Sequence[str], **more: TypeEngine[Any]
) -> TableClause:
    """`table`'s columns `names`, typed as it types them, and `more` columns besides: the
    source of `unnested` and `array_params` for rows that carry more than the table keeps
    (what the statement works out the rest from)."""
    return sql_table(
        name,
        *(column(each, table.c[each].type) for each in names),
        *(column(each, declared) for each, declared in more.items()),
    )


def unnested(table: FromClause, names: Sequence[str], *, prefix: str) -> TableValuedAlias:
    """`unnest(…) WITH ORDINALITY` over one array parameter per name, `<prefix>_<name>`: a
    row source with a column per name and POSITION. Build the statement around it once and
    execute it with `array_params`: a statement built per call costs more to build and to
    key than the compilation it saves. Read its columns through `typed`."""
    arrays = [
        bindparam(f"{prefix}_{name}", type_=ARRAY(_element_type(table.c[name].type)))
        for name in names
    ]
    return (
        func.unnest(*arrays)
        .table_valued(
            *(column(name, _element_type(table.c[name].type)) for name in names),
            with_ordinality=POSITION,
        )
        .render_derived()
    )


def array_params(
    table: FromClause, names: Sequence[str], rows: Sequence[Mapping[str, Any]], *, prefix: str
) -> dict[str, list[Any]]:
    """The parameters of `unnested(table, names, prefix=prefix)` that hold `rows`."""
    return {
        f"{prefix}_{name}": [_array_value(table.c[name].type, row[name]) for row in rows]
        for name in names
    }


def typed(table: FromClause, source: FromClause, name: str) -> ColumnElement[Any]:
    """`source`'s column `name` as `table`'s column takes it (JSON text back to JSON)."""
    declared = table.c[name].type
    if isinstance(declared, JSON):
        return cast(source.c[name], declared)
    return source.c[name]


def rows_of(table: FromClause, names: Sequence[str], *, prefix: str) -> Select[Any]:
    """`SELECT <names> FROM unnest(…)`: what `insert().from_select(names, …)` takes in
    place of a multi-row VALUES."""
    source = unnested(table, names, prefix=prefix)
    return select(*(typed(table, source, name) for name in names))
