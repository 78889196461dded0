"""Operator commands that act on a running server over its GraphQL API: a fresh in-process
copy has its own breakers and counters, so only the server can say (or change) its own."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from apgraph.cli.options import fail
from apgraph.gateway.runtime import embedded_issuer
from apgraph.settings import Settings

OPERATOR_SUBJECT = "operator.cli"
OPERATOR_LIFETIME = timedelta(minutes=5)


def operator_token(settings: Settings) -> str:
    """A short-lived token holding only the admin scope, signed with the data dir's keys: the
    keys the server of this data dir verifies with (embedded mode)."""
    if settings.auth_mode != "embedded":
        fail("tokens come from the external issuer in oidc mode: pass --token")
    issued = embedded_issuer(settings).issue(
        subject=OPERATOR_SUBJECT,
        now=datetime.now(UTC),
        claims={"roles": ["finance_admin"], "scope": "admin"},
        lifetime=OPERATOR_LIFETIME,
    )
    return issued.access_token


def ask(url: str, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    """The `data` of one operation on the server at `url`; any failure is one line, exit 1."""
    endpoint = url.rstrip("/") + "/graphql"
    try:
        response = httpx.post(
            endpoint,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
    except httpx.HTTPError as error:
        fail(f"{endpoint}: no answer ({error})")
    try:
        body = response.json()
    except ValueError:
        fail(f"{endpoint}: HTTP {response.status_code}, not a GraphQL answer")
    errors = body.get("errors") or []
    if errors or body.get("data") is None:
        first: dict[str, Any] = errors[0] if errors else {"message": f"HTTP {response.status_code}"}
        code = first.get("extensions", {}).get("code", "")
        fail(f"{endpoint}: {code + ': ' if code else ''}{first.get('message')}")
    data: dict[str, Any] = body["data"]
    return data


def table(found: list[dict[str, Any]]) -> str:
    """The same table `connectors check` prints, from the API's ConnectorStatus rows."""
    return status_table(
        (
            row["system"].lower(),
            row["endpoint"],
            row["reachable"],
            row["breaker"],
            row["calls"],
            row["failures"],
            row["problem"],
        )
        for row in found
    )


def status_table(
    found: Iterable[tuple[str, str, bool, str, int, int, str | None]],
) -> str:
    """One line per system: name, endpoint, reachable, breaker, calls, failures, problem."""
    rows = [("SYSTEM", "ENDPOINT", "REACHABLE", "BREAKER", "CALLS", "FAILURES", "PROBLEM")]
    rows += [
        (system, endpoint, "yes" if up else "no", breaker, str(calls), str(failed), problem or "")
        for system, endpoint, up, breaker, calls, failed, problem in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]
        ).rstrip()
        for row in rows
    )
