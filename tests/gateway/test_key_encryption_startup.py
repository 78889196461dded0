"""At start: the data keys made (and the embedded key file with them), or checked; a missing
or wrong key-encryption key stops the start with one line; rows stored in plain by an older
version are sealed before the first request."""

import base64
import stat
from pathlib import Path

import pytest
import yaml
from sqlalchemy import insert, select

from apgraph.demo import generator
from apgraph.gateway.refusal import StartupError
from apgraph.gateway.startup import prepare
from apgraph.settings import Settings
from apgraph.store import migrate
from apgraph.store.keyring import Keyring
from apgraph.store.resealing import keys_in_use
from apgraph.store.rows import supplier_row
from apgraph.store.sealing import SEALED_COLUMNS_KNOWN, key_id_of
from apgraph.store.tables import SupplierRow
from tests.conftest import ROOT
from tests.databases import drop_database, make_database
from tests.keys import TEST_KEK, kek_for_tests

SMALL = generator.DemoSize(facilities=1, suppliers=10, purchase_orders=40, invoices=60)


def without_facility_overrides(tmp_path) -> Path:
    """gateway.yaml with `facilities: {}`: these databases hold no demo network."""
    config = yaml.safe_load((ROOT / "gateway.yaml").read_text())
    config["facilities"] = {}
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def embedded(tmp_path, **overrides) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        gateway_config=without_facility_overrides(tmp_path),
        seed_demo_data=False,
        **overrides,
    )


async def test_the_first_embedded_start_makes_a_private_key_file_and_the_data_keys(tmp_path):
    settings = embedded(tmp_path)

    await prepare(settings)

    mode = stat.S_IMODE(settings.key_encryption_key_file.stat().st_mode)
    assert mode == 0o600
    await prepare(settings)  # and the next start opens the keys with it


async def test_a_missing_key_file_stops_the_start_with_one_line(tmp_path):
    settings = embedded(tmp_path)
    await prepare(settings)
    settings.key_encryption_key_file.unlink()

    with pytest.raises(StartupError) as refused:
        await prepare(settings)

    assert str(refused.value) == (
        f"key-encryption key missing: no {settings.key_encryption_key_file} and no "
        "APGRAPH_KEY_ENCRYPTION_KEY (restore the key file, or set the variable)"
    )


async def test_a_wrong_key_stops_the_start_with_one_line(tmp_path):
    await prepare(embedded(tmp_path))
    other = base64.b64encode(bytes(32)).decode()

    with pytest.raises(StartupError) as refused:
        await prepare(embedded(tmp_path, key_encryption_key=other))

    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(
        "the key-encryption key (env:APGRAPH_KEY_ENCRYPTION_KEY) does not unwrap data key "
    )
    assert message.endswith("it is not the key these data keys were wrapped with")


@pytest.mark.parametrize("raw", ["not base64!", base64.b64encode(b"short").decode()])
async def test_a_malformed_key_stops_the_start_with_one_line(tmp_path, raw):
    with pytest.raises(StartupError) as refused:
        await prepare(embedded(tmp_path, key_encryption_key=raw))

    assert str(refused.value) == (
        "APGRAPH_KEY_ENCRYPTION_KEY: the key-encryption key must be 32 bytes in base64 "
        "(make one with `apgraph keys new-kek`)"
    )


async def test_production_never_makes_a_key_of_its_own(tmp_path):
    settings = embedded(tmp_path, environment="production")

    with pytest.raises(StartupError) as refused:
        await prepare(settings)

    assert str(refused.value).startswith("key-encryption key missing")
    assert not settings.key_encryption_key_file.exists()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_suppliers_stored_in_plain_before_sealing_are_sealed_at_start(tmp_path, backend):
    # given a database at the last migration before sealing, holding suppliers in plain
    database = await make_database(backend, tmp_path)
    engine = database.engine()
    network = generator.generate(SMALL)
    try:
        await migrate.upgrade(engine, "0008")
        async with engine.begin() as connection:
            await connection.execute(
                insert(SupplierRow), [supplier_row(s) for s in network.suppliers]
            )

        # when the new version starts on it
        await prepare(
            Settings(
                database_url=database.url,
                database_schema=database.schema,
                data_dir=tmp_path / "data",
                gateway_config=without_facility_overrides(tmp_path),
                seed_demo_data=False,
                key_encryption_key=TEST_KEK,
            )
        )

        # then every classified value is sealed, and opens to what was stored
        async with engine.connect() as connection:
            rows = (await connection.execute(select(SupplierRow.__table__))).all()
        for row in rows:
            for column in SEALED_COLUMNS_KNOWN:
                value = getattr(row, column)
                assert value is None or key_id_of(value) == row.data_key_id
        keyring = Keyring(engine, kek_for_tests(), columns=SEALED_COLUMNS_KNOWN)
        sealing = await keyring.sealing()
        opened = sorted(
            (sealing.open_supplier(row._mapping) for row in rows), key=lambda o: o[0]["id"]
        )
        assert [failed for _, failed in opened] == [frozenset()] * len(network.suppliers)
        assert [values["bank_account_number"] for values, _ in opened] == [
            s.remit_to.account_number if s.remit_to else None
            for s in sorted(network.suppliers, key=lambda s: s.id)
        ]
        assert len(await keys_in_use(engine)) == 1
    finally:
        await engine.dispose()
        await drop_database(database)
