"""The GraphQL view's encoder: what a client reads is JSON, however the data was made."""

import json

import orjson
import pytest
import strawberry

from apgraph.gateway.app import ApGraphQL


@strawberry.type
class Query:
    @strawberry.field(description="A field, so that the schema is one.")
    def ok(self) -> bool:
        return True


VIEW = ApGraphQL(strawberry.Schema(query=Query))
PAGE = '{"edges" : [{"node" : {"id" : "INV-1", "total" : {"amount" : "1.50"}}}]}'


def test_json_text_the_database_built_is_written_as_it_is() -> None:
    # given a root the database answered as JSON text, beside values Python made
    data = {"data": {"invoices": orjson.Fragment(PAGE), "me": {"name": "Zoë"}}}

    # when the view encodes the response
    text = VIEW.encode_json(data)

    # then the text is in it unchanged, and the whole is the JSON of the same values
    assert PAGE in text
    assert json.loads(text) == {"data": {"invoices": json.loads(PAGE), "me": {"name": "Zoë"}}}


def test_a_value_orjson_refuses_is_written_by_json_with_the_database_text_parsed() -> None:
    # given a response orjson cannot write (an integer past 64 bits) and a database-built root
    data = {"data": {"invoices": orjson.Fragment(PAGE), "big": 2**70}}

    # when the view encodes it
    text = VIEW.encode_json(data)

    # then it is still the JSON of every value
    assert json.loads(text) == {"data": {"invoices": json.loads(PAGE), "big": 2**70}}


def test_what_neither_encoder_can_write_still_fails() -> None:
    # given a value that is not JSON at all
    data = {"data": {"odd": object()}}

    # when the view encodes it, then it fails as json.dumps does (strawberry answers a 500)
    with pytest.raises(TypeError, match="not JSON serializable"):
        VIEW.encode_json(data)
