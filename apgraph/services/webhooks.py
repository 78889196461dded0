"""Partner webhooks: register one (its URL checked, its secret shown once), list and remove a
client's own. Deliveries are the events layer's (events/webhooks.py)."""

import base64
import secrets
from collections.abc import Sequence

from apgraph.domain.codes import ProblemCode
from apgraph.domain.event_payloads import EVENT_TYPES
from apgraph.domain.problems import Outcome, Problem
from apgraph.domain.webhooks import (
    MAX_EVENT_TYPES,
    SECRET_PREFIX,
    Registered,
    TargetPolicy,
    Webhook,
    first_allowed,
    literal_address,
    parse_target,
)
from apgraph.services.ports.webhooks import HostResolver, WebhookDeps

SECRET_BYTES = 24  # 192 bits, the size Standard Webhooks' reference libraries generate


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_webhook_id() -> str:
    return f"WHK-{secrets.token_hex(8)}"


async def check_url(url: str, *, targets: TargetPolicy, resolve: HostResolver) -> Problem | None:
    """Refused now rather than at the first delivery (which checks again: DNS can change)."""
    target = parse_target(url)
    if isinstance(target, Problem):
        return target
    literal = literal_address(target.host)
    addresses = [literal] if literal is not None else await resolve(target.host, target.port)
    chosen = first_allowed(target, addresses, targets)
    return chosen if isinstance(chosen, Problem) else None


async def register_webhook(
    *,
    deps: WebhookDeps,
    client_id: str,
    scopes: frozenset[str],
    url: str,
    event_types: Sequence[str],
) -> Outcome[Registered]:
    """`scopes`: what the caller holds now; an event type it could not read is refused, as a
    subscription to it would be."""
    problems: list[Problem] = []
    url_problem = await check_url(url, targets=deps.targets, resolve=deps.resolve)
    if url_problem is not None:
        problems.append(url_problem.at("input", "url"))
    wanted = list(dict.fromkeys(event_types))
    if not wanted or len(wanted) > MAX_EVENT_TYPES:
        problems.append(
            Problem(
                ProblemCode.EVENT_TYPE_UNKNOWN,
                f"name between 1 and {MAX_EVENT_TYPES} event types",
                ("input", "eventTypes"),
            )
        )
    for index, event_type in enumerate(wanted):
        path = ("input", "eventTypes", str(index))
        if event_type not in EVENT_TYPES:
            problems.append(
                Problem(
                    ProblemCode.EVENT_TYPE_UNKNOWN,
                    f"{event_type!r} is not an event type; known: {', '.join(EVENT_TYPES)}",
                    path,
                )
            )
        elif deps.rules.scope_to_read(event_type) not in scopes:
            problems.append(
                Problem(
                    ProblemCode.EVENT_TYPE_NOT_READABLE,
                    f"you may not read {event_type} events "
                    f"(they need {deps.rules.scope_to_read(event_type)})",
                    path,
                )
            )
    if problems:
        return Outcome.failed(*problems)
    if len(await deps.registry.of_client(client_id)) >= deps.max_per_client:
        return Outcome.failed(
            Problem(
                ProblemCode.WEBHOOK_LIMIT_REACHED,
                f"a client has at most {deps.max_per_client} webhooks",
            )
        )
    webhook = Webhook(
        id=new_webhook_id(),
        client_id=client_id,
        url=url.strip(),
        event_types=frozenset(wanted),
        created_at=deps.clock.now(),
    )
    secret = new_secret()
    await deps.registry.add(webhook, secret=secret)
    return Outcome.succeeded(Registered(webhook, secret))


async def remove_webhook(*, deps: WebhookDeps, client_id: str, webhook_id: str) -> Outcome[str]:
    """Another client's webhook answers like an unknown one: its existence is not revealed."""
    if not await deps.registry.remove(client_id, webhook_id, at=deps.clock.now()):
        return Outcome.failed(
            Problem(ProblemCode.WEBHOOK_NOT_FOUND, f"no webhook {webhook_id} of yours", ("id",))
        )
    return Outcome.succeeded(webhook_id)
