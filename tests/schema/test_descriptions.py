"""Every element of the schema explains itself to an integrator (issue 13 item 5)."""

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)

from apgraph.gateway.schema import build_schema as build_apgraph_schema
from apgraph.policies.loader import load_gateway_config
from tests.conftest import ROOT

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def undescribed(schema: GraphQLSchema) -> list[str]:
    """Every type, field, argument, input field and enum value without a description."""
    missing: list[str] = []
    for name, graphql_type in sorted(schema.type_map.items()):
        if name.startswith("__") or name in BUILT_IN:
            continue
        missing += _of_type(name, graphql_type)
    return missing


def _of_type(name: str, graphql_type: GraphQLNamedType) -> list[str]:
    missing = [] if graphql_type.description else [name]
    if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
        for field_name, field in graphql_type.fields.items():
            missing += [] if field.description else [f"{name}.{field_name}"]
            missing += [
                f"{name}.{field_name}({argument})"
                for argument, definition in field.args.items()
                if not definition.description
            ]
    elif isinstance(graphql_type, GraphQLInputObjectType):
        fields = graphql_type.fields.items()
        missing += [f"{name}.{f}" for f, field in fields if not field.description]
    elif isinstance(graphql_type, GraphQLEnumType):
        values = graphql_type.values.items()
        missing += [f"{name}.{v}" for v, value in values if not value.description]
    return missing


def test_every_type_field_argument_and_enum_value_has_a_description():
    config = load_gateway_config(ROOT / "gateway.yaml")
    built = build_apgraph_schema(config, show_error_detail=False, expose_sql_statements=False)
    assert undescribed(build_schema(str(built))) == []


def test_the_check_finds_what_lacks_a_description():
    sdl = """
    "A described type."
    type Query {
      "Described."
      ok(a: Int): Int
      bare: Int
    }
    enum Colour { RED }
    """
    assert undescribed(build_schema(sdl)) == ["Colour", "Colour.RED", "Query.ok(a)", "Query.bare"]
