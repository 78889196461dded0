"""Fixtures for the product tests: a partner client, and apps on gateway.yaml variants."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import yaml

from apgraph.domain.clients import Client
from apgraph.gateway.app import create_app
from apgraph.gateway.runtime import Runtime
from apgraph.policies.gateway import GatewayConfig
from tests.conftest import ROOT, Api, settings_for
from tests.gateway.partners import register, token_for

Change = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="session")
async def partner_client(api) -> Client:
    """A partner client bound to FAC-0001, registered in the `api` database."""
    return await register(api, facilities=["FAC-0001"])


@pytest.fixture(scope="session")
def partner(api, partner_client) -> str:
    """A token of `partner_client`, signed by the `api` app's issuer."""
    return token_for(api, partner_client)


def shipped_config() -> dict[str, Any]:
    """The tests' gateway.yaml (the shipped one with the demo's facility routes)."""
    return yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text(encoding="utf-8"))


@asynccontextmanager
async def app_with(database, data_dir, change: Change, **settings: Any) -> AsyncIterator[Api]:
    """The app on `database`, with gateway.yaml as shipped but for `change`, and `settings`
    (e.g. environment="production") over the tests' own."""
    raw = shipped_config()
    change(raw)
    config = GatewayConfig.model_validate(raw)
    settings = settings_for(database, data_dir, **settings)
    runtime = Runtime.open(settings, config)
    app = create_app(settings, config, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://apgraph.test") as client:
        assert runtime.issuer is not None
        api = Api(client, database.backend, runtime.issuer, settings)
        api.runtime = runtime
        yield api
    await runtime.close()
