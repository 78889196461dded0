"""Unexpected errors are masked (a detail only in dev mode); expected ones keep their code."""

from decimal import Decimal

import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig

from apgraph.gateway.errors import MaskUnexpectedErrors, with_code
from apgraph.schema.errors import BadUserInput
from apgraph.schema.scalars import SCALAR_MAP


@strawberry.type
class Query:
    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError("SELECT * FROM suppliers -- /srv/apgraph/store.py line 42")

    @strawberry.field
    def refused(self) -> str:
        raise BadUserInput("`first` must be between 1 and 100", argument="first")


def schema(*, dev):
    return strawberry.Schema(
        query=Query, extensions=[lambda: MaskUnexpectedErrors(show_detail=dev)]
    )


def test_outside_dev_mode_a_bug_shows_nothing_of_its_insides(caplog):
    result = schema(dev=False).execute_sync("{ broken }")
    (error,) = result.errors
    assert error.message == "Internal server error."
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert "SELECT" in caplog.text  # logged once on the server, with its traceback


def test_in_dev_mode_the_detail_helps_the_developer():
    (error,) = schema(dev=True).execute_sync("{ broken }").errors
    assert error.extensions["detail"].startswith("SELECT * FROM suppliers")


@pytest.mark.parametrize("dev", [True, False])
def test_an_expected_error_keeps_its_message_and_code(dev):
    (error,) = schema(dev=dev).execute_sync("{ refused }").errors
    assert error.message == "`first` must be between 1 and 100"
    assert error.extensions == {"code": "BAD_USER_INPUT", "argument": "first"}


@strawberry.type
class Amounts:
    @strawberry.field
    def echo(self, amount: Decimal, count: int = 1) -> str:
        return f"{amount} x{count}"


def amounts_schema():
    return strawberry.Schema(
        query=Amounts,
        extensions=[lambda: MaskUnexpectedErrors(show_detail=False)],
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )


@pytest.mark.parametrize(
    "variables",
    [{"amount": 10.5}, {"amount": "ten"}, {"amount": "NaN"}, {"amount": "1", "count": "x"}, {}],
    ids=["json-number", "words", "nan", "bad-int", "missing"],
)
def test_a_variable_that_does_not_fit_its_type_is_the_callers_error(variables):
    query = "query($amount: Decimal!, $count: Int) { echo(amount: $amount, count: $count) }"
    result = amounts_schema().execute_sync(query, variable_values=variables)
    (error,) = result.errors
    assert error.message.startswith("Variable '$")
    assert with_code(error.formatted)["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Internal server error" not in error.message


def test_a_decimal_string_is_taken_exactly():
    result = amounts_schema().execute_sync('query { echo(amount: "0.10") }')
    assert result.data == {"echo": "0.10 x1"}
