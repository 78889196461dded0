"""The effective configuration of a server start as data: its fingerprint, and what changed
since the start before. Pure: the gateway gathers the document, the store keeps the history.
"""

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

REDACTED = "(redacted)"
CONFIG_STARTED = "config.started"  # the audit action of each start


def fingerprint(document: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON: the same configuration, the same fingerprint."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Change:
    path: str  # dotted, e.g. "gateway.matching.categories.PHARMACY.price_percent"
    before: Any  # None: not there before
    after: Any  # None: gone

    def line(self) -> str:
        return f"{self.path}: {_shown(self.before)} → {_shown(self.after)}"


def _shown(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(value, sort_keys=True, default=str)


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[Change]:
    """Every leaf that differs, by dotted path, in path order; everything when `before` is None
    is not listed (a first start has nothing to differ from)."""
    if before is None:
        return []
    old, new = dict(_leaves(before)), dict(_leaves(after))
    return [
        Change(path, old.get(path), new.get(path))
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, inner in value.items():
            yield from _leaves(inner, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


@dataclass(frozen=True, slots=True)
class ConfigurationStart:
    """One recorded start: when, by whom, the fingerprint and the (redacted) document."""

    started_at: datetime
    started_by: str
    fingerprint: str
    document: Mapping[str, Any]
