"""GraphiQL's example tabs stay runnable: each is valid against the schema the server serves,
and each role's tab names the command that gives its token."""

import pytest
from graphql import build_schema, parse, validate

from apgraph.gateway.graphiql.examples import EXAMPLES
from apgraph.gateway.schema import build_schema as build_apgraph_schema
from apgraph.policies.loader import load_gateway_config
from apgraph.settings import shipped_gateway_config


@pytest.fixture(scope="module")
def schema():
    config = load_gateway_config(shipped_gateway_config())
    built = build_apgraph_schema(config, show_error_detail=False, expose_sql_statements=False)
    return build_schema(str(built))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.role)
def test_each_example_is_a_valid_operation(schema, example):
    assert validate(schema, parse(example.query)) == []


def test_one_tab_per_role_and_only_the_first_runs_with_the_pages_token():
    first, *others = EXAMPLES
    assert first.token_command is None
    assert {example.role for example in others} == {
        "supplier",
        "ap_clerk",
        "approver",
        "finance_admin",
        "auditor",
    }
    for example in others:
        assert example.token_command.startswith(f"apgraph token --role {example.role}")
        assert example.token_command in example.tab()["headers"]
