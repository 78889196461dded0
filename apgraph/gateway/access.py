"""Enforces gateway.yaml's `access` policy on every field of a schema, in code.

Which fields need a check is planned once per policy, from the SDL strawberry prints: each
field whose rule (its own, or its return type's) names a scope gets a scope check, each
classified field gets masking. A root field without a rule stops the server, so a new
operation is never open by accident. Unruled nested fields (an invoice's lines) are part of
the object already allowed. The checks are strawberry `FieldExtension`s attached through the
public `Schema.get_fields` hook (`GuardedSchema`), so no strawberry upgrade can drop them
silently. Directives in the schema would only label; this is where the answer is given, in
code, per field and per request.
"""

import copy
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from graphql import get_named_type as named_type
from strawberry.extensions import FieldExtension
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from apgraph.domain.classified import mask
from apgraph.policies.access import ANY_SIGNED_IN, AccessPolicy, Classified
from apgraph.schema.errors import Forbidden

ROOT_TYPES = ("Query", "Mutation", "Subscription")
FieldKey = tuple[str, str]  # (GraphQL type name, GraphQL field name)


class UnguardedField(Exception):
    """A root field has no access rule in gateway.yaml."""


@dataclass(frozen=True, slots=True)
class FieldGuard:
    """What one field's resolution is checked for: a scope before, masking after."""

    name: str  # "Type.field", as denials and classified reads are recorded
    scope: str | None  # None: any signed-in caller
    classified: Classified | None


def plan_guards(schema: GraphQLSchema, policy: AccessPolicy) -> dict[FieldKey, FieldGuard]:
    """The guard of every field that needs one; raises UnguardedField for open root fields."""
    guards: dict[FieldKey, FieldGuard] = {}
    unguarded = []
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            requirement = policy.requirement(type_name, field_name, named_type(field.type).name)
            if requirement is None and type_name in ROOT_TYPES:
                unguarded.append(f"{type_name}.{field_name}")
            name = f"{type_name}.{field_name}"
            scope = requirement if requirement not in (None, ANY_SIGNED_IN) else None
            classified = policy.classified.get(name)
            if scope is not None or classified is not None:
                guards[(type_name, field_name)] = FieldGuard(name, scope, classified)
    if unguarded:
        raise UnguardedField(
            f"gateway.yaml: access: no rule for {', '.join(sorted(unguarded))} "
            "(add the type or the field to access.types or access.fields)"
        )
    return guards


class Guard(FieldExtension):
    """One field's check: the caller's scope before resolving, masking of the value after."""

    def __init__(self, guard: FieldGuard) -> None:
        super().__init__()
        self.guard = guard

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        self._check(info)
        value = next_(source, info, **kwargs)
        if inspect.isawaitable(value):  # a sync resolver handing back a dataloader's future
            return self._shown_later(value, source, info)
        return self._shown(value, source, info)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        self._check(info)
        return self._shown(await next_(source, info, **kwargs), source, info)

    def _check(self, info: Any) -> None:
        scope = self.guard.scope
        if scope is None:
            return
        context = info.context
        if scope not in context.principal.scopes:
            context.denied.append(self.guard.name)
            raise Forbidden(f"`{info.field_name}` needs the {scope} scope")

    async def _shown_later(self, value: Awaitable[Any], source: Any, info: Any) -> Any:
        return self._shown(await value, source, info)

    def _shown(self, value: Any, source: Any, info: Any) -> Any:
        rule = self.guard.classified
        if rule is None or value is None:
            return value
        principal = info.context.principal
        if not rule.shown_whole_to(scopes=principal.scopes, roles=principal.roles):
            return mask(str(value))
        if rule.audit_reads:
            info.context.classified_reads.append(
                (self.guard.name, getattr(source, "owner_id", None))
            )
        return value


class GuardedSchema(strawberry.Schema):
    """A schema whose fields carry the access guards planned for them (`plan_guards`)."""

    def __init__(self, *, guards: Mapping[FieldKey, FieldGuard], **kwargs: Any) -> None:
        self.guards = guards  # read by get_fields while strawberry builds the schema
        super().__init__(**kwargs)

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        name_of = self.config.name_converter.get_graphql_name
        fields = []
        for field in super().get_fields(type_definition):
            guard = self.guards.get((type_definition.name, name_of(field)))
            if guard is not None:
                field = copy.copy(field)  # the class's own field stays unguarded for other views
                field.extensions = [*field.extensions, Guard(guard)]
            fields.append(field)
        return fields
