"""The JSON form: one document, checked against the shipped JSON Schema, → records.

The schema judges structure (types, required and unknown properties); a value's own rules
(ID shape, decimal places, dates, enums) are judged by the same code as the CSV form's, so
both forms word a problem alike. A schema complaint about such a value is reported only when
that code found nothing at the same pointer, so nothing the schema refuses slips through.
"""

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from apgraph.domain.bundle import BundleCode, BundleProblem, KnownIds, MasterDataBundle
from apgraph.domain.ids import EntityKind
from apgraph.services.bundles import layout
from apgraph.services.bundles.assembly import RawBundle, ReadResult, assemble, report_order
from apgraph.services.bundles.decoding import parsed_json
from apgraph.services.bundles.fields import Record, Source
from apgraph.services.bundles.limits import DEFAULT_MAX_ROWS, too_many_rows
from apgraph.services.bundles.quick_check import Check, compile_check

# a value's own rules, which `fields` judges for both forms
_VALUE_KEYWORDS = {"pattern", "enum", "minLength", "maxLength", "minimum", "maximum"}
_LOCAL_DEF = "#/$defs/"
_ANNOTATIONS = {"title", "description", "examples", "$comment"}  # no effect on validity
_REMIT_TO = tuple((column, column.replace("remit_to_", "remit_to/")) for column in layout.REMIT_TO)


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) shipped as `schema.json` beside this module."""
    text = resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Draft202012Validator:
    """The validator that words the problems, built once, on the schema with its plain `$ref`s
    replaced by what they name: resolving a `$ref` through `referencing` on every value it
    checks took most of its time (docs/master-data.md, "Performance"). Same rules, same
    instance paths in the errors."""
    shipped = schema()
    return Draft202012Validator(_inlined(shipped, shipped.get("$defs", {})))


@cache
def _quick_check() -> Check | None:
    return compile_check(schema())


def _schema_errors(document: object) -> Iterator[ValidationError]:
    """What `jsonschema` finds; asked only when the quick check is not sure the document
    is valid (quick_check.py), since a valid bundle is the common, and large, case."""
    quick = _quick_check()
    if quick is not None and quick(document):
        return iter(())
    errors: Iterator[ValidationError] = _validator().iter_errors(document)
    return errors


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    """`node` with every `{"$ref": "#/$defs/name"}` replaced by that definition, inlined in
    turn. A `$ref` beside keywords that validate stays a `$ref` (the root keeps `$defs`)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if (
            isinstance(ref, str)
            and ref.startswith(_LOCAL_DEF)
            and _ANNOTATIONS.issuperset(node.keys() - {"$ref"})
        ):
            return _inlined(definitions[ref.removeprefix(_LOCAL_DEF)], definitions)
        return {key: _inlined(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inlined(value, definitions) for value in node]
    return node


def read_json(
    data: bytes,
    *,
    name: str = layout.JSON_FILE,
    known: KnownIds | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> tuple[MasterDataBundle | None, list[BundleProblem]]:
    """`name` is the file the problems name; `known` as in `assemble`. A document of more
    than `max_rows` entity rows is refused before any of them is checked."""
    return read_json_result(data, name=name, known=known, max_rows=max_rows).pair()


def read_json_result(
    data: bytes,
    *,
    name: str = layout.JSON_FILE,
    known: KnownIds | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ReadResult:
    """As `read_json`, with the partial bundle of the rows that parsed."""
    document, unreadable = parsed_json(data, file=name)
    if unreadable is not None:
        return ReadResult(None, [unreadable])
    if _rows_in(document) > max_rows:
        return ReadResult(None, [too_many_rows(name, "/", max_rows=max_rows)])
    raw = RawBundle()
    structural: set[str] = set()
    value_problems: list[BundleProblem] = []
    for error in _schema_errors(document):
        path = list(error.absolute_path)
        if path and path[0] == "policy":
            continue  # MatchingPolicy judges the policy, with the messages gateway.yaml gets
        for problem in _problems_of(error, name):
            if error.validator in _VALUE_KEYWORDS:
                value_problems.append(problem)
            elif problem.location not in structural:
                structural.add(problem.location)
                raw.problems.append(problem)
    if isinstance(document, dict):
        _collect(document, name, structural, raw)
    result = assemble(raw, known=known)
    judged = {problem.location for problem in result.problems}
    missed = [problem for problem in value_problems if problem.location not in judged]
    if missed:
        problems = sorted([*result.problems, *missed], key=report_order)
        return ReadResult(None, problems, result.partial)
    return result


_ENTITIES = (
    "facilities",
    "cost_centers",
    "suppliers",
    "purchase_orders",
    "goods_receipts",
    "contract_prices",
)
_NESTED = ("contacts", "vendor_links", "lines")


def _rows_in(document: object) -> int:
    """Entity rows, nested ones (contacts, vendor links, PO lines) included, counted
    before anything is checked."""
    if not isinstance(document, dict):
        return 0
    rows = 0
    for key in _ENTITIES:
        items = document.get(key)
        if not isinstance(items, list):
            continue
        rows += len(items)
        for item in items:
            if isinstance(item, dict):
                rows += sum(len(v) for k in _NESTED if isinstance(v := item.get(k), list))
    return rows


def _pointer(path: list[str | int]) -> str:
    return "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in path)


def _problems_of(error: ValidationError, file: str) -> Iterator[BundleProblem]:
    path = list(error.absolute_path)
    pointer = _pointer(path)
    field = path[-1] if path and isinstance(path[-1], str) else None
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        for name in error.validator_value:
            if name not in instance:
                yield BundleProblem(
                    file, f"{pointer}/{name}", name, BundleCode.REQUIRED, "is required"
                )
    elif error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        for name in instance:
            if name not in allowed:
                yield BundleProblem(
                    file,
                    f"{pointer}/{_pointer([name])[1:]}",
                    name,
                    BundleCode.SCHEMA,
                    f"unknown property (expected one of {', '.join(allowed)})",
                )
    elif error.validator == "type":
        hint = ""
        if isinstance(instance, int | float) and not isinstance(instance, bool):
            hint = ' (decimals are strings, "12.50": a JSON number passes through float)'
        expected = error.validator_value
        shown = json.dumps(instance)[:40]
        yield BundleProblem(
            file,
            pointer or "/",
            field,
            BundleCode.SCHEMA,
            f"{shown} is not of type {expected}{hint}",
        )
    else:
        code = {
            "enum": BundleCode.INVALID_VALUE,
            "minLength": BundleCode.REQUIRED,
        }.get(str(error.validator), BundleCode.SCHEMA)
        yield BundleProblem(file, pointer or "/", field, code, error.message[:200])


def _collect(document: dict[str, Any], file: str, structural: set[str], raw: RawBundle) -> None:
    """Records for every object the schema let through (a non-object entry is reported)."""

    def record(
        base: str, values: dict[str, Any], nested: tuple[tuple[str, str], ...] = ()
    ) -> Record:
        source = Source(file, base, pointer=True, nested=nested)
        below = {column: path for column, path in nested}
        blocked: set[str] = set()
        for pointer in structural:
            if not pointer.startswith(base + "/"):
                continue
            relative = pointer.removeprefix(base + "/")
            blocked.add(relative.split("/")[0])
            blocked |= {
                column
                for column, path in below.items()
                if path == relative
                or path.startswith(relative + "/")
                or relative.startswith(path + "/")
            }
        return Record(source, values, frozenset(blocked))

    def objects(container: object, key: str) -> Iterator[tuple[int, dict[str, Any]]]:
        items = container.get(key) if isinstance(container, dict) else None
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    yield index, item

    def owned(values: dict[str, Any], key: str, owner: object, kind: EntityKind) -> dict[str, Any]:
        """A nested record names its owner as the CSV form does, when the owner's ID is valid
        (an invalid one was reported on the owner and must not be reported again)."""
        if isinstance(owner, str) and kind.matches(owner):
            return {**values, key: owner}
        return {**values, key: None}

    records = raw.records
    for index, item in objects(document, "facilities"):
        records[layout.FACILITIES.name].append(record(f"/facilities/{index}", item))
    for index, item in objects(document, "cost_centers"):
        records[layout.COST_CENTERS.name].append(record(f"/cost_centers/{index}", item))
    for index, item in objects(document, "suppliers"):
        base = f"/suppliers/{index}"
        remit = item.get("remit_to")
        flat = {f"remit_to_{k}": v for k, v in remit.items()} if isinstance(remit, dict) else {}
        records[layout.SUPPLIERS.name].append(record(base, {**item, **flat}, _REMIT_TO))
        owner = item.get("id")
        for position, contact in objects(item, "contacts"):
            values = owned(contact, "supplier_id", owner, EntityKind.SUPPLIER)
            records[layout.SUPPLIER_CONTACTS.name].append(
                _owned_record(record(f"{base}/contacts/{position}", values), "supplier_id")
            )
        for position, link in objects(item, "vendor_links"):
            values = owned(link, "supplier_id", owner, EntityKind.SUPPLIER)
            records[layout.SUPPLIER_VENDOR_LINKS.name].append(
                _owned_record(record(f"{base}/vendor_links/{position}", values), "supplier_id")
            )
    for index, item in objects(document, "purchase_orders"):
        base = f"/purchase_orders/{index}"
        records[layout.PURCHASE_ORDERS.name].append(record(base, item))
        for position, line in objects(item, "lines"):
            values = owned(line, "purchase_order_id", item.get("id"), EntityKind.PURCHASE_ORDER)
            records[layout.PURCHASE_ORDER_LINES.name].append(
                _owned_record(record(f"{base}/lines/{position}", values), "purchase_order_id")
            )
    for index, item in objects(document, "goods_receipts"):
        records[layout.GOODS_RECEIPTS.name].append(record(f"/goods_receipts/{index}", item))
    for index, item in objects(document, "contract_prices"):
        records[layout.CONTRACT_PRICES.name].append(record(f"/contract_prices/{index}", item))
    if "policy" in document:
        raw.policy = (Source(file, "/policy", pointer=True), document["policy"])


def _owned_record(record: Record, owner_field: str) -> Record:
    """An owner left None (invalid on the owner) fails the record silently."""
    if record.values.get(owner_field) is None:
        return Record(record.source, record.values, record.blocked | {owner_field})
    return record
