"""Exact decimals and aware datetimes, the same on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select, type_coerce

from apgraph.store.types import ExactDecimal, UtcDateTime
from tests.databases import drop_database, make_database

metadata = MetaData()
probe = Table(
    "type_probe",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("amount", ExactDecimal()),
    Column("at", UtcDateTime()),
)


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request, tmp_path):
    database = await make_database(request.param, tmp_path)
    engine = database.engine()
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()
    await drop_database(database)


async def roundtrip(engine, **values):
    async with engine.begin() as connection:
        await connection.execute(insert(probe).values(id=1, **values))
        return (await connection.execute(select(probe))).one()


async def test_point_one_plus_point_two_reads_back_as_point_three(engine):
    row = await roundtrip(engine, amount=Decimal("0.10") + Decimal("0.20"))
    assert row.amount == Decimal("0.3")
    assert isinstance(row.amount, Decimal)


async def test_large_amounts_and_four_decimals_survive(engine):
    row = await roundtrip(engine, amount=Decimal("123456789012.3456"))
    assert row.amount == Decimal("123456789012.3456")


async def test_more_than_four_decimals_is_refused_not_rounded(engine):
    with pytest.raises(Exception, match="more than 4 decimal places"):
        await roundtrip(engine, amount=Decimal("0.00001"))


async def test_a_float_is_refused(engine):
    with pytest.raises(Exception, match="takes a Decimal"):
        await roundtrip(engine, amount=0.1)


async def test_datetimes_come_back_aware_in_utc(engine):
    local = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    row = await roundtrip(engine, at=local)
    assert row.at == local
    assert row.at.tzinfo == UTC


async def test_naive_datetimes_are_refused(engine):
    with pytest.raises(Exception, match="naive"):
        await roundtrip(engine, at=datetime(2026, 3, 1, 9, 30))  # noqa: DTZ001


async def test_an_integer_expression_typed_as_an_amount_reads_back_as_a_decimal(engine):
    # given an expression the database answers as an integer, read as an amount
    async with engine.connect() as connection:
        [count] = (
            await connection.execute(
                select(type_coerce(func.count(probe.c.id) + 2, ExactDecimal()))
            )
        ).one()
    # then it is a Decimal like every other amount, not the driver's int
    assert type(count) is Decimal


async def test_an_amount_column_reads_back_as_a_decimal_on_every_database(engine):
    row = await roundtrip(engine, amount=Decimal("12.5"))
    assert type(row.amount) is Decimal
    assert row.amount == Decimal("12.5")
