"""Unexpected errors are masked (a detail only in dev mode); expected ones keep their code."""

import pytest
import strawberry

from apgraph.gateway.errors import MaskUnexpectedErrors
from apgraph.schema.errors import BadUserInput


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
