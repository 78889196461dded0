"""Builds attack queries from the live schema, so every field added later is tried too.

For a root field, `probes` yields (query, variables) pairs: every argument that takes a
canonical ID, directly or inside an input object, gets the victim's ID of the kind its name
suggests; the selection asks for every field down to a depth, including every `id`.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

INTROSPECTION = """
query Introspect {
  __schema {
    queryType { name } mutationType { name }
    types {
      kind name
      fields { name args { name type { ...T } } type { ...T } }
      inputFields { name type { ...T } }
      possibleTypes { name }
    }
  }
}
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
"""

MAX_DEPTH = 4


def named(type_ref: dict[str, Any]) -> dict[str, Any]:
    while type_ref.get("ofType"):
        type_ref = type_ref["ofType"]
    return type_ref


def required(type_ref: dict[str, Any]) -> bool:
    return type_ref["kind"] == "NON_NULL"


def type_literal(type_ref: dict[str, Any]) -> str:
    if type_ref["kind"] == "NON_NULL":
        return type_literal(type_ref["ofType"]) + "!"
    if type_ref["kind"] == "LIST":
        return f"[{type_literal(type_ref['ofType'])}]"
    return type_ref["name"]


@dataclass
class Schema:
    types: dict[str, dict[str, Any]]
    query: str
    mutation: str | None

    @classmethod
    def from_introspection(cls, data: dict[str, Any]) -> "Schema":
        schema = data["__schema"]
        return cls(
            types={t["name"]: t for t in schema["types"]},
            query=schema["queryType"]["name"],
            mutation=(schema["mutationType"] or {}).get("name"),
        )

    def selection(self, type_name: str, depth: int) -> str:
        graphql_type = self.types[type_name]
        if graphql_type["kind"] in ("SCALAR", "ENUM"):
            return ""
        if graphql_type["kind"] in ("INTERFACE", "UNION"):
            fragments = " ".join(
                f"... on {t['name']} {{ {self.selection(t['name'], depth)} }}"
                for t in graphql_type["possibleTypes"]
            )
            return f"__typename {fragments}"
        parts = []
        for field in graphql_type["fields"]:
            if any(required(arg["type"]) for arg in field["args"]):
                continue
            inner = named(field["type"])
            if self.types[inner["name"]]["kind"] in ("SCALAR", "ENUM"):
                parts.append(field["name"])
            elif depth > 0:
                parts.append(f"{field['name']} {{ {self.selection(inner['name'], depth - 1)} }}")
        return " ".join(parts) or "__typename"


def id_value_for(name: str, ids_by_kind: dict[str, str]) -> str | None:
    """The victim's ID an argument named `name` most plausibly wants."""
    lowered = name.lower()
    for hint, kind in (
        ("supplier", "supplier"),
        ("purchaseorder", "purchase_order"),
        ("invoice", "invoice"),
        ("payment", "payment"),
    ):
        if hint in lowered:
            return ids_by_kind.get(kind)
    return None


def input_value(schema: Schema, type_ref: dict[str, Any], name: str, ids: dict[str, str]) -> Any:
    inner = named(type_ref)
    kind = schema.types[inner["name"]]["kind"]
    if kind == "INPUT_OBJECT":
        value = {}
        for field in schema.types[inner["name"]]["inputFields"]:
            chosen = input_value(schema, field["type"], field["name"], ids)
            if chosen is not None:
                value[field["name"]] = chosen
        return value or None
    if inner["name"] == "ID":
        return id_value_for(name, ids) or (ids.get("facility") if required(type_ref) else None)
    if required(type_ref) and inner["name"] == "String":
        return "4410"
    if required(type_ref) and inner["name"] == "Int":
        return 10
    return None


def probes(
    schema: Schema, root: str, field: dict[str, Any], victim: dict[str, list[str]]
) -> Iterator[tuple[str, dict[str, Any], dict[str, str]]]:
    """(query, variables, the victim IDs used) for each way to aim the field at the victim.

    `victim` maps a kind to the victim's IDs of that kind; a lookup by `id` is tried with
    each of them, so one aimed at invoices gets an invoice ID, and so on.
    """
    result_type = named(field["type"])["name"]
    selection = schema.selection(result_type, MAX_DEPTH)
    body = f" {{ {selection} }}" if selection else ""
    kinds = (
        [kind for kind, values in victim.items() if values]
        if any(arg["name"] == "id" for arg in field["args"])
        else [None]
    )
    operation = "mutation" if root == schema.mutation else "query"
    for kind in kinds:
        ids = {k: values[0] for k, values in victim.items() if values}
        if kind is not None:
            ids = {**ids, "id": victim[kind][0]}
        variables: dict[str, Any] = {}
        declarations = []
        for arg in field["args"]:
            value = (
                ids["id"]
                if arg["name"] == "id" and kind is not None
                else input_value(schema, arg["type"], arg["name"], ids)
            )
            if value is None:
                continue
            variables[arg["name"]] = value
            declarations.append(f"${arg['name']}: {type_literal(arg['type'])}")
        arguments = ", ".join(f"{name}: ${name}" for name in variables)
        header = f"({', '.join(declarations)})" if declarations else ""
        call = f"{field['name']}({arguments})" if arguments else field["name"]
        used = {k: v for k, v in ids.items() if k != "facility"}
        yield f"{operation} Probe{header} {{ {call}{body} }}", variables, used
