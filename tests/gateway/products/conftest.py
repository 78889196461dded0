"""A registered partner client on the `api` app, for the partner product's tests."""

import pytest

from tests.gateway.partners import register, token_for


@pytest.fixture(scope="session")
async def partner(api) -> str:
    """A token of a partner client bound to FAC-0001."""
    client = await register(api, facilities=["FAC-0001"])
    return token_for(api, client)
