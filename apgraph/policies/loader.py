"""Reads gateway.yaml once at start and turns every problem into one readable line."""

from collections.abc import Sequence
from pathlib import Path

import yaml
from pydantic import ValidationError

from apgraph.policies.gateway import GatewayConfig


class ConfigError(Exception):
    """gateway.yaml cannot be used; the message lists every problem, one per line."""


def load_gateway_config(path: Path) -> GatewayConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    try:
        return GatewayConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(problem_lines(path, error)) from None


def problem_lines(path: Path, error: ValidationError, *, at: Sequence[str] = ()) -> str:
    """One line per problem: the file, the dotted path of the value at fault (under `at`,
    where the validated section sits in the file), and what is wrong with it."""
    return "\n".join(
        f"{path}: {'.'.join([*at, *(str(part) for part in problem['loc'])]) or '(top)'}: "
        f"{problem['msg']}"
        for problem in error.errors()
    )
