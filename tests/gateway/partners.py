"""Registers partner clients for tests, the way `apgraph clients create` does."""

import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml

from apgraph.domain.clients import Client
from apgraph.gateway.app import create_app
from apgraph.gateway.client_secrets import hash_secret
from apgraph.gateway.oauth import client_claims
from apgraph.gateway.products.operation_lists import (
    OperationList,
    sha256_of,
    write_operation_list,
)
from apgraph.policies.gateway import GatewayConfig
from apgraph.settings import shipped_gateway_config
from apgraph.store.clients import ClientRepository
from apgraph.store.database import create_engine
from tests.conftest import ROOT, Api
from tests.live_server import serving

SHIPPED_LISTS = shipped_gateway_config().parent / "operations"
PARTNER_SCOPES = frozenset({"invoices:read", "master-data:read", "suppliers:read"})


async def register(api, *, facilities, secret="s3cret-for-tests", scopes=PARTNER_SCOPES) -> Client:
    client = Client(
        client_id=f"cli_{secrets.token_hex(8)}",
        name="test partner",
        secret_hash=hash_secret(secret),
        scopes=frozenset(scopes),
        product="partner-procurement",
        facility_ids=frozenset(facilities),
        created_at=datetime.now(UTC),
        revoked_at=None,
    )
    engine = create_engine(api.settings.resolved_database_url, schema=api.settings.database_schema)
    await ClientRepository(engine).add(client)
    await engine.dispose()
    return client


def token_for(api, client: Client, **extra_claims) -> str:
    claims = {**client_claims(client, " ".join(sorted(client.scopes))), **extra_claims}
    return api.issuer.issue(
        subject=client.client_id, now=datetime.now(UTC), claims=claims
    ).access_token


@asynccontextmanager
async def partner_endpoint(api, list_dir: Path, *operations: str) -> AsyncIterator[Api]:
    """`api`'s database and keys served on loopback with the partner product's allow-list as
    shipped plus `operations`, as if the partner had registered them (`apgraph operations
    add`): for tests whose subject is what a partner reads, not which operations it may send.
    Its product endpoint runs their exact texts."""
    raw = yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text(encoding="utf-8"))
    policy = raw["products"]["partner-procurement"]["persisted_operations"]
    shipped = OperationList(json.loads((SHIPPED_LISTS / Path(policy["file"]).name).read_text()))
    listed = shipped.merged(OperationList({sha256_of(text): text for text in operations}))
    path = list_dir / "partner-procurement.json"
    write_operation_list(path, listed)
    policy["file"] = str(path)
    app = create_app(api.settings, GatewayConfig.model_validate(raw))
    with serving(app, name="partner server") as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield Api(client, api.backend, api.issuer, api.settings)
