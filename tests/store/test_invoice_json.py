"""PostgreSQL writes each value of a page's JSON as the schema serializes it.

The fast path's equivalence tests (tests/gateway/test_fast_reads.py) compare whole pages of
the demo network; here each renderer of store/invoice_json.py meets the Python function it
stands for on values the demo network never holds: every NUMERIC(19, 4), every currency,
any text in a cursor, any date.
"""

import datetime
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Boolean, Date, Numeric, String, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from apgraph.domain.money import MINOR_UNITS, at_minor_units, plain
from apgraph.domain.principal import RowScope
from apgraph.schema.pagination import encode_cursor
from apgraph.services.ports.reads import InvoiceFilter, PageRequest, Selected
from apgraph.store.invoice_json import (
    as_amount,
    as_cursor,
    as_date,
    as_datetime,
    as_json,
    as_plain,
    minor_units,
)
from apgraph.store.invoices import InvoiceRepository
from apgraph.store.types import UtcDateTime
from tests.store.conftest import migrated

SETTINGS = settings(
    max_examples=150,
    derandomize=True,  # the same values on every run: a failure is reproducible
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# what ExactDecimal stores on PostgreSQL: NUMERIC(19, 4)
STORED = st.decimals(
    min_value=Decimal("-999999999999999.9999"),
    max_value=Decimal("999999999999999.9999"),
    places=4,
    allow_nan=False,
    allow_infinity=False,
)


@pytest.fixture(scope="module")
async def postgres(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    async with migrated("postgresql", tmp_path_factory.mktemp("json")) as engine:
        yield engine


async def rendered(engine: AsyncEngine, expression: ColumnElement[Any], **values: Any) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(select(expression), values)).scalar_one()


def numeric(name: str) -> ColumnElement[Any]:
    return bindparam(name, type_=Numeric(19, 4, asdecimal=True))


@SETTINGS
@given(amount=STORED, currency=st.sampled_from(sorted(MINOR_UNITS)))
async def test_an_amount_reads_as_at_minor_units_shows_it(
    postgres: AsyncEngine, amount: Decimal, currency: str
) -> None:
    text = await rendered(
        postgres,
        as_amount(numeric("amount"), minor_units(bindparam("currency", type_=String))),
        amount=amount,
        currency=currency,
    )

    assert text == str(at_minor_units(amount, currency))


async def test_an_amount_in_a_currency_without_minor_units_is_null(postgres: AsyncEngine) -> None:
    text = await rendered(
        postgres,
        as_amount(numeric("amount"), minor_units(bindparam("currency", type_=String))),
        amount=Decimal("1.5"),
        currency="XXX",
    )

    assert text is None  # at_minor_units refuses it: nothing is made up


@SETTINGS
@given(value=STORED)
async def test_a_decimal_reads_as_plain_shows_it(postgres: AsyncEngine, value: Decimal) -> None:
    text = await rendered(postgres, as_plain(numeric("value")), value=value)

    assert text == str(plain(value))


@SETTINGS
@given(
    entity_id=st.text(
        st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=80
    )
)
async def test_a_cursor_reads_as_encode_cursor_makes_it(
    postgres: AsyncEngine, entity_id: str
) -> None:
    # any text PostgreSQL holds (no NUL, no lone surrogate), long enough for base64's line
    # breaks, with bytes that encode to + and /
    text = await rendered(postgres, as_cursor(bindparam("id", type_=String)), id=entity_id)

    assert text == encode_cursor(entity_id)


@SETTINGS
@given(
    value=st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]))
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.booleans()
    | st.none()
)
async def test_a_text_integer_or_boolean_reads_as_its_json(
    postgres: AsyncEngine, value: str | int | bool | None
) -> None:
    # any text PostgreSQL holds: quotes, backslashes, control characters, any script
    kind = Boolean if isinstance(value, bool) else BigInteger if isinstance(value, int) else String
    text = await rendered(postgres, as_json(bindparam("value", type_=kind)), value=value)

    assert json.loads(text) == value
    assert type(json.loads(text)) is type(value)  # 1 is not true, nor 0 false


# asyncpg sends date.min and date.max (and datetime's) as -infinity and infinity, which
# PostgreSQL keeps as such: no date the schema could show, so they are left out
DAYS = st.dates(min_value=datetime.date(1, 1, 2), max_value=datetime.date(9999, 12, 30))


@SETTINGS
@given(day=DAYS)
async def test_a_date_reads_as_its_iso_format(postgres: AsyncEngine, day: datetime.date) -> None:
    text = await rendered(postgres, as_date(bindparam("day", type_=Date)), day=day)

    assert text == day.isoformat()


@SETTINGS
@given(
    moment=st.datetimes(
        min_value=datetime.datetime(1, 1, 2),
        max_value=datetime.datetime(9999, 12, 30),
        timezones=st.just(datetime.UTC),
    )
)
async def test_a_moment_reads_as_its_iso_format(
    postgres: AsyncEngine, moment: datetime.datetime
) -> None:
    # any instant, with and without microseconds; read back in UTC, as the driver answers it
    text = await rendered(postgres, as_datetime(bindparam("at", type_=UtcDateTime)), at=moment)

    assert text == moment.isoformat()


ID = Selected("id", "id")
EDGES = Selected("edges", "edges", (Selected("node", "node", (ID,)),))


def nodes(*fields: Selected) -> tuple[Selected, ...]:
    """A connection selecting `fields` of each invoice."""
    return (Selected("edges", "edges", (Selected("node", "node", fields),)),)


@pytest.mark.parametrize(
    "selection",
    [
        pytest.param(nodes(Selected("submitter", "submitted_by")), id="a field it does not render"),
        pytest.param((Selected("sum", "grand_total"),), id="a connection field it does not"),
        pytest.param(
            (Selected("x' || pg_sleep(1) || '", "edges", EDGES.fields),),
            id="a key that is not a GraphQL name",
        ),
        pytest.param(nodes(Selected("status", "status")), id="a code without its names"),
        pytest.param(
            nodes(Selected("status", "status", names=(("POSTED", "POSTED'; --"),))),
            id="a name that is not a GraphQL name",
        ),
    ],
)
async def test_a_selection_it_does_not_render_is_left_to_the_caller(
    postgres: AsyncEngine, selection: tuple[Selected, ...]
) -> None:
    invoices = InvoiceRepository(postgres, RowScope())

    answer = await invoices.page_as_json(InvoiceFilter(), PageRequest(first=5), selection)

    assert answer is None


async def test_a_wide_selection_is_built_whole(seeded_postgres: AsyncEngine) -> None:
    # given a node selecting one field under 120 aliases (JSON text has no argument limit)
    keys = [f"k{number}" for number in range(120)]
    invoices = InvoiceRepository(seeded_postgres, RowScope())

    # when the database builds the page
    answer = await invoices.page_as_json(
        InvoiceFilter(), PageRequest(first=3), nodes(*(Selected(key, "id") for key in keys))
    )

    # then every node has every key, in the order asked
    assert answer is not None
    for edge in json.loads(answer)["edges"]:
        assert list(edge["node"]) == keys
        assert set(edge["node"].values()) == {edge["node"]["k0"]}


@pytest.mark.parametrize("scope", [RowScope(), RowScope(supplier_id="SUP-000002")])
async def test_the_total_count_is_of_the_filter_whatever_the_page(
    seeded_postgres: AsyncEngine, scope: RowScope
) -> None:
    # given the scope's second page of three, and the same filter counted apart
    invoices = InvoiceRepository(seeded_postgres, scope)
    where = InvoiceFilter()
    first_page = await invoices.page(where, PageRequest(first=3))
    after = first_page.items[-1].id
    selection = (Selected("total", "total_count"), EDGES)

    # when the database builds the page after the first, with its total count
    answer = await invoices.page_as_json(where, PageRequest(first=3, after=after), selection)

    # then the count is every invoice the scope sees, not those after the cursor
    assert answer is not None
    assert json.loads(answer)["total"] == await invoices.count(where) > 3
    assert list(json.loads(answer)) == ["total", "edges"]


async def test_sqlite_leaves_the_page_to_the_caller(tmp_path: Path) -> None:
    async with migrated("sqlite", tmp_path) as engine:
        invoices = InvoiceRepository(engine, RowScope())

        answer = await invoices.page_as_json(InvoiceFilter(), PageRequest(first=5), (EDGES,))

    assert answer is None


async def test_an_empty_page_has_no_edges_and_no_cursors(postgres: AsyncEngine) -> None:
    invoices = InvoiceRepository(postgres, RowScope())
    info = tuple(
        Selected(key, key)
        for key in ("has_next_page", "has_previous_page", "start_cursor", "end_cursor")
    )

    answer = await invoices.page_as_json(
        InvoiceFilter(), PageRequest(first=5), (EDGES, Selected("info", "page_info", info))
    )

    assert answer is not None
    assert json.loads(answer) == {
        "edges": [],
        "info": {
            "has_next_page": False,
            "has_previous_page": False,
            "start_cursor": None,
            "end_cursor": None,
        },
    }


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        pytest.param(
            (Selected("info", "page_info", (Selected("previous", "has_previous_page"),)),),
            {"info": {"previous": False}},
            id="pageInfo without an aggregate",
        ),
        pytest.param(
            (Selected("kind", constant="InvoiceConnection"),),
            {"kind": "InvoiceConnection"},
            id="the type name alone",
        ),
    ],
)
@pytest.mark.parametrize("scope", [RowScope(), RowScope(supplier_id="SUP-999999")])
async def test_a_page_is_one_answer_whatever_it_selects_and_holds(
    seeded_postgres: AsyncEngine,
    selection: tuple[Selected, ...],
    expected: dict[str, Any],
    scope: RowScope,
) -> None:
    # given a selection without an aggregate, on a full page and on an empty one (a
    # supplier with no invoice)
    invoices = InvoiceRepository(seeded_postgres, scope)

    # when the database builds it
    answer = await invoices.page_as_json(InvoiceFilter(), PageRequest(first=5), selection)

    # then it is one answer, not one per invoice (nor none for no invoice)
    assert answer is not None
    assert json.loads(answer) == expected


@pytest.mark.parametrize(
    ("change", "selected", "rendered_without"),
    [
        pytest.param(
            "UPDATE invoices SET status = 'NEWER' WHERE id = (SELECT min(id) FROM invoices)",
            Selected("status", "status", names=(("POSTED", "POSTED"), ("PAID", "PAID"))),
            Selected("id", "id"),
            id="a status its enum does not know",
        ),
        pytest.param(
            "UPDATE invoices SET currency = 'XXX' WHERE id = (SELECT min(id) FROM invoices)",
            Selected("total", "total", (Selected("amount", "amount"),)),
            Selected("total", "total", (Selected("currency", "currency"),)),
            id="an amount in a currency without minor units",
        ),
        pytest.param(
            "UPDATE invoices SET due_date = 'infinity' WHERE id = (SELECT min(id) FROM invoices)",
            Selected("due", "due_date"),
            Selected("issued", "invoice_date"),
            id="a date at infinity",
        ),
    ],
)
async def test_a_value_the_schema_cannot_show_leaves_the_page_to_the_caller(
    seeded_postgres: AsyncEngine, change: str, selected: Selected, rendered_without: Selected
) -> None:
    # given a page holding a value the schema cannot show (written by a newer server, say)
    async with seeded_postgres.begin() as connection:
        await connection.execute(text(change))
    invoices = InvoiceRepository(seeded_postgres, RowScope())
    page = PageRequest(first=5)

    # when the database is asked for the page with that value, and without it
    with_it = await invoices.page_as_json(InvoiceFilter(), page, nodes(selected))
    without_it = await invoices.page_as_json(InvoiceFilter(), page, nodes(rendered_without))

    # then the caller answers the page (from objects, where the value fails as it should),
    # and a selection that does not show the value is still built
    assert with_it is None
    assert without_it is not None


AWKWARD = 'a "quoted" \\ back\\slash, a\ttab, a\nnew line, \u2028 and \U0001f9fe, \x01 control'


async def test_awkward_text_in_a_page_reads_back_as_stored(seeded_postgres: AsyncEngine) -> None:
    # given the first invoice's number and its first line's description holding every
    # character JSON escapes, and some it need not
    async with seeded_postgres.begin() as connection:
        first = (await connection.execute(text("SELECT min(id) FROM invoices"))).scalar_one()
        await connection.execute(
            text("UPDATE invoices SET supplier_invoice_number = :t WHERE id = :id"),
            {"t": AWKWARD[:64], "id": first},
        )
        await connection.execute(
            text("UPDATE invoice_lines SET description = :t WHERE invoice_id = :id"),
            {"t": AWKWARD, "id": first},
        )
    invoices = InvoiceRepository(seeded_postgres, RowScope())
    lines = Selected("lines", "lines", (Selected("text", "description"),))
    number = Selected("number", "supplier_invoice_number")

    # when the database builds the page
    answer = await invoices.page_as_json(
        InvoiceFilter(), PageRequest(first=1), nodes(number, lines)
    )

    # then the text reads back exactly as stored
    assert answer is not None
    node = json.loads(answer)["edges"][0]["node"]
    assert node["number"] == AWKWARD[:64]
    assert {line["text"] for line in node["lines"]} == {AWKWARD}
