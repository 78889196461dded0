"""Signing-key rotation: tokens signed before it keep working until they expire."""

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from apgraph.domain.principal import Role
from apgraph.gateway.app import create_app
from apgraph.gateway.demo_users import demo_token
from apgraph.gateway.keys import SigningKeys
from apgraph.gateway.runtime import Runtime
from apgraph.policies.loader import load_gateway_config
from tests.conftest import settings_for

ROOT = Path(__file__).resolve().parents[2]
VIEWER = {"query": "{ viewer { subject } }"}


def test_rotation_keeps_old_keys_only_as_long_as_their_tokens_live(tmp_path):
    keys = SigningKeys.load_or_create(tmp_path / "keys.json", now=datetime(2026, 1, 1, tzinfo=UTC))
    first = keys.active.kid
    lifetime = timedelta(minutes=15)
    keys.rotate(now=datetime(2026, 1, 1, 1, tzinfo=UTC), token_lifetime=lifetime)
    assert [k.kid for k in keys.keys][0] == first
    assert len(keys.public_jwks()["keys"]) == 2
    # an hour later, the first key's tokens have all expired: it goes at the next rotation
    keys.rotate(now=datetime(2026, 1, 1, 2, tzinfo=UTC), token_lifetime=lifetime)
    assert first not in [k.kid for k in keys.keys]
    assert SigningKeys.load(tmp_path / "keys.json").active.kid == keys.active.kid


async def test_a_token_from_before_apgraph_keys_rotate_still_works(seeded_database, tmp_path):
    settings = settings_for(seeded_database, tmp_path / "data")
    config = load_gateway_config(settings.gateway_config)
    runtime = Runtime.open(settings, config)
    app = create_app(settings, config, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://apgraph.test") as client:
        before = demo_token(runtime.issuer, role=Role.AUDITOR, now=datetime.now(UTC))

        # when an operator rotates the keys from another process
        command = [sys.executable, "-m", "apgraph.cli", "keys", "rotate"]
        process = await asyncio.create_subprocess_exec(
            *command,
            "--data-dir",
            str(settings.data_dir),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, stderr.decode()
        output = stdout.decode()
        after = demo_token(runtime.issuer, role=Role.AUDITOR, now=datetime.now(UTC))

        # then both tokens work, the new one is signed by the new key, and both are published
        for token in (before, after):
            response = await client.post(
                "/products/finance-ops/v1/graphql",  # an auditor's product
                json=VIEWER,
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.json()["data"] == {"viewer": {"subject": "auditor.demo"}}
        kids = {key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]}
        assert len(kids) == 2
        assert output.split("now signing with key ")[1].split()[0] in kids
    await runtime.close()
