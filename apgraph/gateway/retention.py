"""Retention as gateway.yaml says: which kinds, how long, checked at start; one run of it."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.gateway.refusal import StartupError
from apgraph.policies.gateway import GatewayConfig
from apgraph.store.keyring import Keyring
from apgraph.store.retention import PURGES, Purged, purge_all


def check_retention_kinds(config: GatewayConfig) -> None:
    unknown = sorted(set(config.retention.kinds) - set(PURGES))
    if unknown:
        raise StartupError(
            f"gateway.yaml: retention.kinds: unknown kind(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(PURGES))})"
        )


async def run_retention(
    engine: AsyncEngine,
    keyring: Keyring,
    config: GatewayConfig,
    *,
    now: datetime,
    dry_run: bool,
    actor: str,
) -> list[Purged]:
    """Every kind the policy names, oldest records first, in bounded batches; audited."""
    policy = config.retention
    keys = (await keyring.sealing()).keys
    return await purge_all(
        engine,
        {kind: keep.period for kind, keep in policy.kinds.items()},
        batch=policy.batch_size,
        now=now,
        dry_run=dry_run,
        checkpoint_key=keys.checkpoint_key,
        actor=actor,
    )
