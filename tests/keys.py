"""The key-encryption key of test runs, and keyrings on test databases."""

import base64
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.gateway.key_encryption import LocalKek
from apgraph.store.keyring import Keyring
from apgraph.store.sealing import SEALED_COLUMNS_KNOWN

TEST_KEK_BYTES = bytes(range(32))
TEST_KEK = base64.b64encode(TEST_KEK_BYTES).decode()  # APGRAPH_KEY_ENCRYPTION_KEY in tests
CREATED = datetime(2026, 11, 1, tzinfo=UTC)


def kek_for_tests() -> LocalKek:
    return LocalKek("env:test", TEST_KEK_BYTES)


async def keyring_for(engine: AsyncEngine) -> Keyring:
    """The database's keys (made on first use) under the test KEK, every classified column
    sealed, as gateway.yaml says."""
    keyring = Keyring(engine, kek_for_tests(), columns=SEALED_COLUMNS_KNOWN)
    await keyring.create_if_missing(now=CREATED)
    await keyring.reload()
    return keyring
