"""Reads the matching policy from a file of its own (`apgraph serve --policy FILE`), which then
replaces gateway.yaml's `matching` section.

FILE is one of:

- a master-data bundle in the JSON form (`"format": "apgraph.master-data"`): its `policy`
  member is used, and a bundle without one is refused;
- the section alone, as JSON or YAML: the object gateway.yaml holds under `matching:`, with
  or without that key around it (so the section can be cut from gateway.yaml as it is).

A `.json` file is read as JSON, anything else as YAML. Every problem is one line naming the
file and the dotted path of the value at fault, as gateway.yaml's own are.
"""

import json
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError

from apgraph.policies.gateway import GatewayConfig
from apgraph.policies.loader import ConfigError, problem_lines
from apgraph.policies.matching import MatchingPolicy

BUNDLE_FORMAT = "apgraph.master-data"  # the `format` member of a bundle's JSON form
_SECTION = "matching"


def load_matching_policy(path: Path) -> MatchingPolicy:
    """The policy in `path`, checked as gateway.yaml's section is; raises ConfigError."""
    document = _parsed(path)
    section, where = _section_of(document, path)
    try:
        return MatchingPolicy.model_validate(section)
    except ValidationError as error:
        raise ConfigError(problem_lines(path, error, at=where)) from None


def _parsed(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder (pass its policy.json)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(
                f"{path}: not valid JSON: line {error.lineno} column {error.colno}: {error.msg}"
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(error)}") from None


def _yaml_problem(error: yaml.YAMLError) -> str:
    """PyYAML's several-line message as one line: where, and what it found."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"line {mark.line + 1} column {mark.column + 1}: {error.problem or error.context}"
    return " ".join(str(error).split())


def _section_of(document: object, path: Path) -> tuple[object, list[str]]:
    """The matching section and the path it sits at in the file."""
    if not isinstance(document, Mapping):
        raise ConfigError(
            f"{path}: (top): expected an object (a bundle, or the matching section), "
            f"not {_kind(document)}"
        )
    if document.get("format") == BUNDLE_FORMAT:
        if "policy" not in document:
            raise ConfigError(f"{path}: policy: the bundle has no policy section")
        return document["policy"], ["policy"]
    if set(document) == {_SECTION}:
        return document[_SECTION], [_SECTION]
    return document, []


def _kind(value: object) -> str:
    if value is None:
        return "an empty file"
    if isinstance(value, list):
        return "a list"
    return "text" if isinstance(value, str) else type(value).__name__


def with_policy_file(config: GatewayConfig, path: Path | None) -> GatewayConfig:
    """`config` with its `matching` section replaced by the policy in `path`, if given."""
    if path is None:
        return config
    return config.model_copy(update={"matching": load_matching_policy(path)})
