"""An audit entry that cannot be written withholds the answer it would have recorded."""

import httpx
from sqlalchemy import text

from apgraph.demo import writer as demo_writer
from apgraph.gateway.app import create_app
from apgraph.gateway.runtime import Runtime
from apgraph.policies.loader import load_gateway_config
from apgraph.store import migrate
from tests.conftest import Api, settings_for
from tests.databases import make_database
from tests.keys import keyring_for

BANK_DETAILS = "query($id: ID!) { supplier(id: $id) { remitTo { accountNumber } } }"


async def test_a_classified_read_that_cannot_be_audited_returns_no_data(tmp_path, network):
    # given a server whose audit trail cannot be appended to
    database = await make_database("sqlite", tmp_path)
    engine = database.engine()
    await migrate.upgrade(engine)
    await demo_writer.write(engine, network, keyring=await keyring_for(engine))
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE audit_head"))
    await engine.dispose()
    settings = settings_for(database, tmp_path / "data")
    config = load_gateway_config(settings.gateway_config)
    runtime = Runtime.open(settings, config)
    supplier = next(s for s in network.suppliers if s.remit_to is not None)
    transport = httpx.ASGITransport(app=create_app(settings, config, runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://apgraph.test") as client:
        api = Api(client, "sqlite", runtime.issuer, settings)

        # when the finance admin reads a bank account number in full
        body = await api.graphql(BANK_DETAILS, {"id": supplier.id})

    await runtime.close()
    # then she gets no data at all, and an error that says why
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "audit trail" in error["message"]
    assert supplier.remit_to.account_number not in str(body)
