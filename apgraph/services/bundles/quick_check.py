"""A quick yes/maybe-not check of a document against the shipped JSON Schema, compiled once.

`jsonschema` spends most of a large bundle's read building a validator per value it visits.
Most bundles are valid, so the reader asks this first: compiled into plain closures from the
same schema, it answers True only when the document is valid, and False when it is not,
or when it cannot be sure (a bool where an enum expects a string, say). On False the reader
runs `jsonschema`, which alone words the problems. So a wrong False costs time, never a
problem; a wrong True would lose problems, which `tests/services/bundles` checks against
`jsonschema` on generated documents.

It knows the keywords `schema.json` uses; a schema with any other one compiles to None, and
the reader uses `jsonschema` alone.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[object], bool]

_ANNOTATIONS = {"$schema", "$id", "$defs", "$comment", "title", "description", "examples"}
_LOCAL_DEF = "#/$defs/"


class _Unsupported(Exception):
    """The schema uses a keyword this module does not compile."""


def compile_check(schema: Mapping[str, Any]) -> Check | None:
    """A check for `schema` (draft 2020-12), or None when it uses a keyword not known here."""
    definitions: Mapping[str, Any] = schema.get("$defs", {})
    compiled: dict[str, Check] = {}

    def reference(name: str) -> Check:
        if name not in definitions:
            raise _Unsupported(name)

        def check(value: object) -> bool:  # looked up on use: a definition may refer to itself
            return compiled[name](value)

        return check

    try:
        for name, definition in definitions.items():
            compiled[name] = _compile(definition, reference)
        return _compile(schema, reference)
    except _Unsupported:
        return None


def _compile(schema: object, reference: Callable[[str], Check]) -> Check:
    if schema is True:
        return _always
    if schema is False or not isinstance(schema, Mapping):
        raise _Unsupported(repr(schema))
    checks: list[Check] = []
    for keyword, argument in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword == "additionalProperties":
            checks.append(_additional(schema.get("properties", {}), argument, reference))
            continue
        compiler = _KEYWORDS.get(keyword)
        if compiler is None:
            raise _Unsupported(keyword)
        checks.append(compiler(argument, reference))
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _always(value: object) -> bool:
    return True


_TYPES: dict[str, Callable[[object], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    # a float is an integer to jsonschema when it has no fraction; saying "maybe not" is safe
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


def _type(argument: object, reference: Callable[[str], Check]) -> Check:
    names = [argument] if isinstance(argument, str) else argument
    if not isinstance(names, list) or any(name not in _TYPES for name in names):
        raise _Unsupported(f"type {argument!r}")
    tests = [_TYPES[name] for name in names]
    if len(tests) == 1:
        return tests[0]
    return lambda value: any(test(value) for test in tests)


def _ref(argument: object, reference: Callable[[str], Check]) -> Check:
    if not isinstance(argument, str) or not argument.startswith(_LOCAL_DEF):
        raise _Unsupported(f"$ref {argument!r}")
    return reference(argument.removeprefix(_LOCAL_DEF))


def _properties(argument: object, reference: Callable[[str], Check]) -> Check:
    if not isinstance(argument, Mapping):
        raise _Unsupported("properties")
    checks = {name: _compile(sub, reference) for name, sub in argument.items()}

    def check(value: object) -> bool:
        if not isinstance(value, dict):
            return True
        for name, item in value.items():
            sub = checks.get(name)
            if sub is not None and not sub(item):
                return False
        return True

    return check


def _additional(
    properties: Mapping[str, object], argument: object, reference: Callable[[str], Check]
) -> Check:
    known = frozenset(properties)
    if argument is False:
        return lambda value: not isinstance(value, dict) or known.issuperset(value)
    sub = _compile(argument, reference)
    return lambda value: (
        not isinstance(value, dict)
        or all(sub(item) for name, item in value.items() if name not in known)
    )


def _required(argument: object, reference: Callable[[str], Check]) -> Check:
    if not isinstance(argument, list):
        raise _Unsupported("required")
    names = tuple(argument)
    return lambda value: not isinstance(value, dict) or all(name in value for name in names)


def _items(argument: object, reference: Callable[[str], Check]) -> Check:
    sub = _compile(argument, reference)
    return lambda value: not isinstance(value, list) or all(sub(item) for item in value)


def _property_names(argument: object, reference: Callable[[str], Check]) -> Check:
    sub = _compile(argument, reference)
    return lambda value: not isinstance(value, dict) or all(sub(name) for name in value)


def _pattern(argument: object, reference: Callable[[str], Check]) -> Check:
    if not isinstance(argument, str):
        raise _Unsupported("pattern")
    search = re.compile(argument).search
    return lambda value: not isinstance(value, str) or search(value) is not None


def _min_length(argument: object, reference: Callable[[str], Check]) -> Check:
    bound = _int(argument)
    return lambda value: not isinstance(value, str) or len(value) >= bound


def _max_length(argument: object, reference: Callable[[str], Check]) -> Check:
    bound = _int(argument)
    return lambda value: not isinstance(value, str) or len(value) <= bound


def _minimum(argument: object, reference: Callable[[str], Check]) -> Check:
    bound = _number(argument)
    return lambda value: not _is_number(value) or value >= bound  # type: ignore[operator]


def _maximum(argument: object, reference: Callable[[str], Check]) -> Check:
    bound = _number(argument)
    return lambda value: not _is_number(value) or value <= bound  # type: ignore[operator]


def _enum(argument: object, reference: Callable[[str], Check]) -> Check:
    if not isinstance(argument, list):
        raise _Unsupported("enum")
    allowed = _plain_values(argument)
    return lambda value: _is_plain(value) and (type(value), value) in allowed


def _const(argument: object, reference: Callable[[str], Check]) -> Check:
    allowed = _plain_values([argument])
    return lambda value: _is_plain(value) and (type(value), value) in allowed


def _plain_values(values: list[object]) -> frozenset[tuple[type, object]]:
    """Strings, non-bool integers and null compare as jsonschema compares them; anything else
    is left to jsonschema."""
    if not all(_is_plain(value) for value in values):
        raise _Unsupported("enum of other than strings, integers and null")
    return frozenset((type(value), value) for value in values)


def _is_plain(value: object) -> bool:
    return value is None or isinstance(value, str) or type(value) is int


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int(argument: object) -> int:
    if type(argument) is not int:
        raise _Unsupported("a length that is not an integer")
    return argument


def _number(argument: object) -> int | float:
    if not _is_number(argument):
        raise _Unsupported("a bound that is not a number")
    return argument  # type: ignore[return-value]


_KEYWORDS: dict[str, Callable[[object, Callable[[str], Check]], Check]] = {
    "type": _type,
    "$ref": _ref,
    "properties": _properties,  # additionalProperties: in _compile, it needs `properties`
    "required": _required,
    "items": _items,
    "propertyNames": _property_names,
    "pattern": _pattern,
    "minLength": _min_length,
    "maxLength": _max_length,
    "minimum": _minimum,
    "maximum": _maximum,
    "enum": _enum,
    "const": _const,
}
