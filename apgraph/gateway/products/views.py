"""A product version's schema: the one schema's types, filtered to the version's view.

Built with strawberry's public `Schema.get_fields` hook, over the same root types and
resolvers as the full schema: a field outside the view does not exist for the product, so
naming it fails validation exactly like a typo, introspection and the SDL never show it, and
a type reachable only through hidden fields (so through no fragment either) is not in the
schema at all. `node(id)` answers null for a type outside the view (gateway/app.py asks the
product's schema, before any load).

Hidden arguments and enum values go through the same hook: `get_fields` hands back copies of
the fields with fewer `arguments`, and with every enum that has hidden values replaced by a
per-view copy of its definition holding only the shown ones (in field, argument and input
field types alike). A hidden argument is then unknown to validation (the resolver sees its
default); a hidden enum value is unknown as input, absent from introspection and the SDL,
and never leaves as output: a field whose resolver answers a hidden value is refused with
NOT_IN_VIEW, as a field error (null, propagated as GraphQL does), never mapped to another
value (that would tell the client something false) nor dropped from a list (that would
make totals and pages lie). Hide only values the view's callers cannot meet, e.g. the
userErrors codes of mutations the view does not have. A hidden value can still appear
inside a JSON scalar (an event's payload), which no enum type governs.
"""

import copy
import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from enum import Enum
from functools import cached_property
from typing import Any

import strawberry
from graphql import GraphQLSchema, build_schema
from strawberry.annotation import StrawberryAnnotation
from strawberry.extensions import DisableIntrospection, FieldExtension, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.base import (
    StrawberryList,
    StrawberryObjectDefinition,
    StrawberryOptional,
)
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.field import StrawberryField

from apgraph.gateway.products.allow_list import AllowListOnly
from apgraph.gateway.products.cost import CostModel, Prices
from apgraph.gateway.products.demand_control import DemandControl
from apgraph.gateway.products.operation_lists import OperationList
from apgraph.gateway.products.usage import NameOperation
from apgraph.gateway.schema import QuietSchema, access_guards, schema_extensions
from apgraph.policies.gateway import GatewayConfig
from apgraph.policies.products import Product, View
from apgraph.resolvers.root import Mutation, Query, Subscription
from apgraph.schema.errors import NotInView
from apgraph.schema.scalars import SCALAR_MAP
from apgraph.services.ports.reads import PageLimits


class ViewError(Exception):
    """A view names a field the schema does not have; one line per problem."""


class RefuseHiddenValues(FieldExtension):
    """Refuses a field whose resolver answered an enum value the view hides, before
    serialisation: the value never leaves, and the client gets a stable code."""

    def __init__(self, hidden: frozenset[Enum]) -> None:
        super().__init__()
        self.hidden = hidden

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        return self._shown(next_(source, info, **kwargs), info)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        return self._shown(await next_(source, info, **kwargs), info)

    def _shown(self, value: Any, info: Any) -> Any:
        values = value if isinstance(value, list | tuple) else [value]
        if any(isinstance(item, Enum) and item in self.hidden for item in values):
            raise NotInView(f"`{info.field_name}` has a value this product version does not show")
        return value


class ViewSchema(QuietSchema):
    """The schema as one product version sees it."""

    def __init__(self, view: View, **kwargs: Any) -> None:
        self.view = view  # read by get_fields while the parent builds the schema
        self.enums: dict[str, StrawberryEnumDefinition] = {}  # the view's narrowed enums
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
        if shown is None:
            hidden = self.view.hidden_members(type_name)
            shown = frozenset(name_of(field) for field in fields) - hidden
        return [
            self._narrowed(type_definition, field) for field in fields if name_of(field) in shown
        ]

    def _narrowed(
        self, type_definition: StrawberryObjectDefinition, field: StrawberryField
    ) -> StrawberryField:
        """`field`, or a copy without its hidden arguments and hidden enum values."""
        names = self.config.name_converter
        hidden_arguments = self.view.hidden_arguments(type_definition.name, names.from_field(field))
        arguments = [
            self._narrowed_argument(argument)
            for argument in field.arguments
            if names.from_argument(argument) not in hidden_arguments
        ]
        field_type = self._narrowed_type(field.type)
        unchanged = field_type is field.type and all(
            shown is argument for shown, argument in zip(arguments, field.arguments, strict=False)
        )
        if unchanged and len(arguments) == len(field.arguments):
            return field
        narrowed = copy.copy(field)  # the class's own field stays whole for other views
        narrowed.arguments = arguments
        if field_type is not field.type:
            narrowed.type = field_type
            refused = self._hidden_values(field.type)
            if refused and not type_definition.is_input:
                narrowed.extensions = [*field.extensions, RefuseHiddenValues(refused)]
        return narrowed

    def _narrowed_argument(self, argument: StrawberryArgument) -> StrawberryArgument:
        argument_type = self._narrowed_type(argument.type)
        if argument_type is argument.type:
            return argument
        narrowed = copy.copy(argument)
        narrowed.type_annotation = StrawberryAnnotation(argument_type)
        return narrowed

    def _narrowed_type(self, field_type: Any) -> Any:
        """The same type, with the view's copy of each enum that has hidden values."""
        if isinstance(field_type, StrawberryOptional | StrawberryList):
            inner = self._narrowed_type(field_type.of_type)
            if inner is field_type.of_type:
                return field_type
            return type(field_type)(inner)
        if isinstance(field_type, StrawberryEnumDefinition):
            return self._narrowed_enum(field_type)
        return field_type

    def _narrowed_enum(self, enum: StrawberryEnumDefinition) -> StrawberryEnumDefinition:
        hidden = self.view.hidden_members(enum.name)
        if not hidden:
            return enum
        if enum.name not in self.enums:  # one copy per view, so the schema sees one type
            name_of = self.config.name_converter.from_enum_value
            values = [value for value in enum.values if name_of(enum, value) not in hidden]
            self.enums[enum.name] = dataclasses.replace(enum, values=values)
        return self.enums[enum.name]

    def _hidden_values(self, field_type: Any) -> frozenset[Enum]:
        """The members of the field's enum that the view hides (none for other types)."""
        while isinstance(field_type, StrawberryOptional | StrawberryList):
            field_type = field_type.of_type
        if not isinstance(field_type, StrawberryEnumDefinition):
            return frozenset()
        shown = {value.value for value in self._narrowed_enum(field_type).values}
        members: Iterable[Enum] = field_type.wrapped_cls  # type: ignore[assignment]
        return frozenset(member for member in members if member.value not in shown)


def build_view_schema(
    config: GatewayConfig,
    product: Product,
    view: View,
    *,
    show_error_detail: bool,
    expose_sql_statements: bool,
    fast_reads: bool = True,
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
    prices = Prices(model)  # this version's, shared by its operations

    def demand_control() -> SchemaExtension:
        return DemandControl(
            product=product_name,
            prices=prices,
            graphql_schema=built[0].graphql_core_schema,
            max_cost=limits.max_cost,
            cost_per_minute=limits.cost_per_minute,
        )

    extensions = schema_extensions(
        max_depth=limits.max_depth,
        max_aliases=limits.max_aliases,
        max_tokens=limits.max_tokens,
        show_error_detail=show_error_detail,
        expose_sql_statements=expose_sql_statements,
        fast_reads=fast_reads,
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
            problems += [f"{at}.hidden: {problem}" for problem in _unknown_hidden(full, view)]
    if problems:
        raise ViewError("\n".join(f"{source}: {problem}" for problem in problems))


def _unknown_hidden(schema: strawberry.Schema, view: View) -> list[str]:
    """What is wrong with each `hidden` entry: a name the schema lacks, a root field (list
    the shown ones instead), a required argument (the field could not be called), or every
    value of an enum."""
    problems = []
    names = schema.config.name_converter
    for hidden in sorted(view.hidden):
        type_name, member = hidden.split(".", 1)
        found = schema.get_type_by_name(type_name)
        if member.endswith(")"):
            field_name, argument_name = member.removesuffix(")").split("(")
            field = _field_of(schema, type_name, field_name)
            arguments = {names.from_argument(arg): arg for arg in field.arguments} if field else {}
            argument = arguments.get(argument_name)
            if argument is None:
                problems.append(f"{hidden}: no argument `{argument_name}` in the schema")
            elif not isinstance(argument.type, StrawberryOptional):
                problems.append(f"{hidden}: a required argument cannot be hidden")
        elif isinstance(found, StrawberryEnumDefinition):
            values = {names.from_enum_value(found, value) for value in found.values}
            if member not in values:
                problems.append(f"{hidden}: no value `{member}` in the schema")
            elif values <= view.hidden_members(type_name):
                problems.append(f"{hidden}: an enum needs at least one value shown")
        elif type_name in ("Query", "Mutation", "Subscription"):
            problems.append(f"{hidden}: list root fields in {type_name}")
        elif _field_of(schema, type_name, member) is None:
            problems.append(f"no field `{hidden}` in the schema")
    return problems


def _field_of(schema: strawberry.Schema, type_name: str, field_name: str) -> StrawberryField | None:
    found = schema.get_type_by_name(type_name)
    if not isinstance(found, StrawberryObjectDefinition):
        return None
    name_of = schema.config.name_converter.get_graphql_name
    return next((field for field in found.fields if name_of(field) == field_name), None)


def _fields_of(schema: strawberry.Schema, type_name: str) -> set[str]:
    found = schema.get_type_by_name(type_name)
    if not isinstance(found, StrawberryObjectDefinition):
        return set()
    name_of = schema.config.name_converter.get_graphql_name
    return {name_of(field) for field in found.fields}
