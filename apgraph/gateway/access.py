"""Enforces gateway.yaml's `access` policy on every field of the built schema.

Once, at start: each field whose rule (its own, or its return type's) names a scope gets its
resolver wrapped with the check; each classified field gets masking. A root field without a
rule stops the server, so a new operation is never open by accident. Unruled nested fields
(an invoice's lines) are part of the object already allowed. Directives in the schema would
only label; this is where the answer is given, in code, per field and per request.
"""

import inspect
from collections.abc import Callable
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, default_field_resolver
from graphql import get_named_type as named_type

from apgraph.policies.access import ANY_SIGNED_IN, AccessPolicy, Classified
from apgraph.schema.errors import Forbidden

ROOT_TYPES = ("Query", "Mutation", "Subscription")
Resolver = Callable[..., Any]


class UnguardedField(Exception):
    """A root field has no access rule in gateway.yaml."""


def mask(value: str) -> str:
    """All but the last four characters hidden, the length kept."""
    return "•" * max(len(value) - 4, 0) + value[-4:]


def enforce(schema: GraphQLSchema, policy: AccessPolicy) -> None:
    unguarded = []
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            returns = named_type(field.type).name
            requirement = policy.requirement(type_name, field_name, returns)
            if requirement is None and type_name in ROOT_TYPES:
                unguarded.append(f"{type_name}.{field_name}")
            if requirement is not None and requirement != ANY_SIGNED_IN:
                field.resolve = _requiring(requirement, _resolver_of(field))
            classified = policy.classified.get(f"{type_name}.{field_name}")
            if classified is not None:
                name = f"{type_name}.{field_name}"
                field.resolve = _masking(name, classified, _resolver_of(field))
    if unguarded:
        raise UnguardedField(
            f"gateway.yaml: access: no rule for {', '.join(sorted(unguarded))} "
            "(add the type or the field to access.types or access.fields)"
        )


def _resolver_of(field: GraphQLField) -> Resolver:
    return field.resolve or default_field_resolver


def _requiring(scope: str, resolve: Resolver) -> Resolver:
    def checked(source: Any, info: Any, **arguments: Any) -> Any:
        context = info.context
        if scope not in context.principal.scopes:
            context.denied.append(f"{info.parent_type.name}.{info.field_name}")
            raise Forbidden(f"`{info.field_name}` needs the {scope} scope")
        return resolve(source, info, **arguments)

    return checked


def _masking(name: str, rule: Classified, resolve: Resolver) -> Resolver:
    def shown(value: Any, source: Any, info: Any) -> Any:
        if value is None:
            return None
        principal = info.context.principal
        if not rule.shown_whole_to(scopes=principal.scopes, roles=principal.roles):
            return mask(str(value))
        if rule.audit_reads:
            info.context.classified_reads.append((name, getattr(source, "owner_id", None)))
        return value

    def masked(source: Any, info: Any, **arguments: Any) -> Any:
        value = resolve(source, info, **arguments)
        if inspect.isawaitable(value):

            async def later() -> Any:
                return shown(await value, source, info)

            return later()
        return shown(value, source, info)

    return masked
