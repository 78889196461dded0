"""The migration that adds invoice number keys, and its backfill (the start-up pass of
store/number_keys.py): invoices stored before it are duplicate candidates until keyed, then
found by their keys; a downgrade takes the columns away. On both backends."""

from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.policies.matching import DuplicatePolicy
from apgraph.store import migrate
from apgraph.store.number_keys import digest, make_keys
from apgraph.store.unit_of_work import SqlUnitOfWork
from tests.databases import drop_database, make_database
from tests.keys import keyring_for

RULES = DuplicatePolicy().numbers()
KEYS = "SELECT supplier_invoice_number, number_key, number_key_rules FROM invoices"


def _revision() -> tuple[str, str]:
    """(this migration, the one before it), whatever number it has when it lands."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    (script,) = (s for s in scripts.walk_revisions() if s.path.endswith("_invoice_number_keys.py"))
    assert isinstance(script.down_revision, str)
    return script.revision, script.down_revision


async def _candidate_ids(engine, supplier_id: str, number: str) -> set[str]:
    """Candidates of a number in a currency nothing is billed in: found by number only."""
    async with SqlUnitOfWork(engine) as uow:
        found = await uow.invoices.duplicate_candidates(
            supplier_id, number=RULES.keyed(number), currency="XTS", total=Decimal(0)
        )
    return {invoice.id for invoice in found}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_invoices_stored_before_the_keys_are_candidates_until_keyed(
    backend: str, tmp_path: Path, tiny_network: generator.DemoNetwork
):
    # given a database one migration short, holding a network's invoices
    revision, before = _revision()
    database = await make_database(backend, tmp_path)
    engine = database.engine()
    try:
        await migrate.upgrade(engine, before)
        await demo_writer.write(engine, tiny_network, keyring=await keyring_for(engine))
        invoice = tiny_network.invoices[0]
        of_supplier = {i.id for i in tiny_network.invoices if i.supplier_id == invoice.supplier_id}
        same_number = {
            i.id
            for i in tiny_network.invoices
            if i.supplier_id == invoice.supplier_id
            and RULES.key(i.supplier_invoice_number) == RULES.key(invoice.supplier_invoice_number)
        }

        # when the migration runs
        await migrate.upgrade(engine, revision)

        # then no number is keyed yet, and every invoice of the supplier is a candidate
        async with engine.connect() as connection:
            unkeyed = (await connection.execute(text(KEYS))).all()
        assert {(key, rules) for _, key, rules in unkeyed} == {(None, None)}
        assert await _candidate_ids(engine, invoice.supplier_id, "ANY-1") == of_supplier

        # when the start-up pass keys them under the configured rules
        assert await make_keys(engine, RULES, batch=7) == len(tiny_network.invoices)

        # then each row holds its number's key, and a number finds only its own invoices
        async with engine.connect() as connection:
            keyed = (await connection.execute(text(KEYS))).all()
        assert len(keyed) == len(tiny_network.invoices)
        assert all(
            (key, rules) == (digest(RULES.key(number)), RULES.fingerprint)
            for number, key, rules in keyed
        )
        found = await _candidate_ids(engine, invoice.supplier_id, invoice.supplier_invoice_number)
        assert found == same_number
        assert await _candidate_ids(engine, invoice.supplier_id, "ANY-1") == set()

        # and a downgrade takes the columns away
        async with engine.begin() as connection:
            await connection.run_sync(
                lambda sync: command.downgrade(migrate.alembic_config(sync), before)
            )
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {
                    c["name"] for c in inspect(sync).get_columns("invoices", schema=database.schema)
                }
            )
        assert "supplier_invoice_number" in columns
        assert not {"number_key", "number_key_rules"} & columns
    finally:
        await engine.dispose()
        await drop_database(database)
