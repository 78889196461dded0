"""Contracts: each product version's SDL, frozen in contracts/<product>/<version>.graphql.

A change between two SDLs is breaking (an operation that worked may now fail), dangerous
(it still validates but may behave otherwise, e.g. a new enum value) or safe (additions,
descriptions, deprecations), by graphql-core's `find_schema_changes`. Deprecations are listed
too, so a field's `@deprecated` reason reaches the reviewer of the diff.
"""

from dataclasses import dataclass, field
from pathlib import Path

from graphql import (
    BreakingChangeType,
    DangerousChangeType,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_schema_changes,
)

FULL_SCHEMA = "apgraph.graphql"  # the operators' internal schema (/graphql)


def contract_path(root: Path, product: str, version: str) -> Path:
    return root / product / f"{version}.graphql"


@dataclass(frozen=True, slots=True)
class Changes:
    breaking: list[str] = field(default_factory=list)
    dangerous: list[str] = field(default_factory=list)
    safe: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.breaking or self.dangerous or self.safe)

    def as_text(self, title: str) -> str:
        lines = [title]
        for heading, items in self._sections():
            lines.append(f"{heading} ({len(items)}):")
            lines += [f"  - {item}" for item in items] or ["  (none)"]
        return "\n".join(lines)

    def as_markdown(self, title: str) -> str:
        """For a pull request: a heading, a one-line verdict, then each kind of change."""
        verdict = (
            "**Breaking: needs a new version.**"
            if self.breaking
            else "Dangerous changes: check clients."
            if self.dangerous
            else "Safe."
        )
        lines = [f"### {title}", "", verdict]
        for heading, items in self._sections():
            lines += ["", f"#### {heading} ({len(items)})", ""]
            lines += [f"- {item}" for item in items] or ["_none_"]
        return "\n".join(lines)

    def _sections(self) -> list[tuple[str, list[str]]]:
        return [("Breaking", self.breaking), ("Dangerous", self.dangerous), ("Safe", self.safe)]


def changes_between(old_sdl: str, new_sdl: str) -> Changes:
    old, new = build_schema(old_sdl), build_schema(new_sdl)
    changes = Changes()
    for change in find_schema_changes(old, new):
        if isinstance(change.type, BreakingChangeType):
            changes.breaking.append(change.description)
        elif isinstance(change.type, DangerousChangeType):
            changes.dangerous.append(change.description)
        else:
            changes.safe.append(change.description)
    changes.safe.extend(_deprecations(old, new))
    if not changes and old_sdl != new_sdl:
        changes.safe.append("formatting or order only")
    return changes


def _deprecations(old: GraphQLSchema, new: GraphQLSchema) -> list[str]:
    """Deprecation reasons added, changed or removed on fields and enum values that both
    schemas have (graphql-core reports additions and removals, not deprecations)."""
    found = []
    for name, new_type in new.type_map.items():
        old_type = old.type_map.get(name)
        if name.startswith("__") or old_type is None:
            continue
        pairs: list[tuple[str, str | None, str | None]] = []
        if isinstance(new_type, GraphQLObjectType | GraphQLInterfaceType) and isinstance(
            old_type, GraphQLObjectType | GraphQLInterfaceType
        ):
            pairs = [
                (f"{name}.{f}", old_type.fields[f].deprecation_reason, field_.deprecation_reason)
                for f, field_ in new_type.fields.items()
                if f in old_type.fields
            ]
        elif isinstance(new_type, GraphQLEnumType) and isinstance(old_type, GraphQLEnumType):
            pairs = [
                (f"{name}.{v}", old_type.values[v].deprecation_reason, value.deprecation_reason)
                for v, value in new_type.values.items()
                if v in old_type.values
            ]
        for where, before, after in pairs:
            if before == after:
                continue
            if after is None:
                found.append(f"{where} is no longer deprecated.")
            else:
                found.append(f"{where} deprecated: {after}")
    return found
