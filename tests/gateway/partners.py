"""Registers partner clients for tests, the way `apgraph clients create` does."""

import secrets
from datetime import UTC, datetime

from apgraph.domain.clients import Client
from apgraph.gateway.client_secrets import hash_secret
from apgraph.gateway.oauth import client_claims
from apgraph.store.clients import ClientRepository
from apgraph.store.database import create_engine

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
