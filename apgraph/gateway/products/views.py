"""A product version's schema: the one schema's types, filtered to the version's view.

Built with strawberry's public `Schema.get_fields` hook, over the same root types and
resolvers as the full schema: a field outside the view does not exist for the product, so
naming it fails validation exactly like a typo, introspection and the SDL never show it, and
a type reachable only through hidden fields (so through no fragment either) is not in the
schema at all. `node(id)` answers null for a type outside the view (gateway/app.py asks the
product's schema, before any load).
"""

from functools import cached_property
from typing import Any

import strawberry
from graphql import GraphQLSchema, build_schema
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from apgraph.gateway.products.allow_list import AllowListOnly
from apgraph.gateway.products.cost import CostModel
from apgraph.gateway.products.demand_control import DemandControl
from apgraph.gateway.products.operation_lists import OperationList
from apgraph.gateway.products.usage import NameOperation
from apgraph.gateway.schema import QuietSchema, access_guards, schema_extensions
from apgraph.policies.gateway import GatewayConfig
from apgraph.policies.products import Product, View
from apgraph.resolvers.root import Mutation, Query, Subscription
from apgraph.schema.scalars import SCALAR_MAP
from apgraph.services.ports.reads import PageLimits


class ViewError(Exception):
    """A view names a field the schema does not have; one line per problem."""


class ViewSchema(QuietSchema):
    """The schema as one product version sees it."""

    def __init__(self, view: View, **kwargs: Any) -> None:
        self.view = view  # read by get_fields while the parent builds the schema
        super().__init__(**kwargs)

    @cached_property
    def graphql_core_schema(self) -> GraphQLSchema:
        """The view as a graphql-core schema, for analyses that walk its types, fields and
        arguments (cost). strawberry keeps the one it executes private, so this is the view's
        printed SDL (public `as_str`) parsed back, once, on first use: same types, fields,
        arguments, descriptions and directives, so a strawberry upgrade cannot change it."""
        return build_schema(self.as_str())

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        type_name = type_definition.name
        shown = self.view.root_fields(type_name)
        name_of = self.config.name_converter.get_graphql_name
        fields = super().get_fields(type_definition)  # with their access guards
        if shown is not None:
            return [field for field in fields if name_of(field) in shown]
        return [
            field for field in fields if f"{type_name}.{name_of(field)}" not in self.view.hidden
        ]


def build_view_schema(
    config: GatewayConfig,
    product: Product,
    view: View,
    *,
    show_error_detail: bool,
    expose_sql_statements: bool,
    introspection: bool,
    product_name: str,
    version_name: str,
    page_limits: PageLimits,
    allowed: OperationList | None,
) -> ViewSchema:
    """`allowed`: the operations a product that requires persisted operations runs."""
    limits = product.limits
    built: list[ViewSchema] = []  # the cost walk needs the schema the extensions belong to
    model = CostModel(product.cost, page_limits.default_size, page_limits.max_size)

    def demand_control() -> SchemaExtension:
        return DemandControl(
            product=product_name,
            model=model,
            max_cost=limits.max_cost,
            cost_per_minute=limits.cost_per_minute,
            graphql_schema=built[0].graphql_core_schema,
        )

    extensions = schema_extensions(
        max_depth=limits.max_depth,
        max_aliases=limits.max_aliases,
        max_tokens=limits.max_tokens,
        show_error_detail=show_error_detail,
        expose_sql_statements=expose_sql_statements,
        before_execution=[
            lambda: NameOperation(product=product_name, version=version_name),
            *([lambda: AllowListOnly(allowed=allowed)] if allowed is not None else []),
            demand_control,
        ],
    )
    if not introspection:
        extensions.insert(0, DisableIntrospection)
    schema = ViewSchema(
        view,
        query=Query,
        mutation=Mutation if view.mutation else None,
        subscription=Subscription if view.subscription else None,
        extensions=extensions,
        config=StrawberryConfig(
            scalar_map=SCALAR_MAP, disable_field_suggestions=not show_error_detail
        ),
        guards=access_guards(config),
    )
    built.append(schema)
    return schema


def check_views(config: GatewayConfig, full: strawberry.Schema, *, source: object) -> None:
    """Every name a view uses exists in the full schema: a typo must not hide a field
    silently, nor leave a product without the operation it was meant to have."""
    problems = []
    for product_name, product in config.products.items():
        for version_name, version in product.versions.items():
            at = f"products.{product_name}.versions.{version_name}.view"
            view = version.view
            roots = (
                ("Query", view.query),
                ("Mutation", view.mutation),
                ("Subscription", view.subscription),
            )
            for root, names in roots:
                fields = _fields_of(full, root)
                problems += [
                    f"{at}.{root}: no field `{name}` on {root}" for name in sorted(names - fields)
                ]
            for hidden in sorted(view.hidden):
                type_name, field_name = hidden.split(".", 1)
                if type_name in ("Query", "Mutation", "Subscription"):
                    problems.append(f"{at}.hidden: {hidden}: list root fields in {type_name}")
                elif field_name not in _fields_of(full, type_name):
                    problems.append(f"{at}.hidden: no field `{hidden}` in the schema")
    if problems:
        raise ViewError("\n".join(f"{source}: {problem}" for problem in problems))


def _fields_of(schema: strawberry.Schema, type_name: str) -> set[str]:
    found = schema.get_type_by_name(type_name)
    if not isinstance(found, StrawberryObjectDefinition):
        return set()
    name_of = schema.config.name_converter.get_graphql_name
    return {name_of(field) for field in found.fields}
