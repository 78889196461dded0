"""Classified supplier fields are sealed at rest, whichever way a supplier arrived (seeded,
imported by the CLI's path, or written through the API), while the API answers as before.

Each test reads the `suppliers` table directly, on SQLite and on PostgreSQL."""

import itertools
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select, update

from apgraph.domain.bundle import MasterDataBundle, SupplierEntry
from apgraph.domain.ids import SupplierId
from apgraph.domain.principal import Role, RowScope
from apgraph.domain.suppliers import BankAccount
from apgraph.services.bundles import write_json
from apgraph.services.onboarding import import_bundle
from apgraph.store.master_data_io import SqlMasterData
from apgraph.store.suppliers import SupplierRepository
from apgraph.store.tables import SupplierRow
from tests.resolvers.test_import_master_data import imported

SUPPLIER = """
query Supplier($id: ID!) {
  supplier(id: $id) { id legalName taxId remitTo { routingNumber accountNumber last4 } }
}
"""
_numbers = itertools.count(1)


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def new_suppliers(network, *, count: int, account: str | None = None) -> MasterDataBundle:
    """Suppliers with IDs no other test uses, each with its own (or the given) bank account."""
    template = next(s for s in network.suppliers if s.remit_to is not None)
    entries = []
    for _ in range(count):
        n = next(_numbers)
        number = account or f"77{n:04d}31415926"
        routing = "091000019" if account else f"0910{n:05d}"
        entries.append(
            SupplierEntry(
                replace(
                    template,
                    id=SupplierId(f"SUP-97{n:04d}"),
                    legal_name=f"Sealed Supplies {n}",
                    tax_id=f"97-{n:07d}",
                    remit_to=BankAccount("Test Bank", routing, number),
                ),
                (),
            )
        )
    return MasterDataBundle(suppliers=tuple(entries))


async def stored_text(api) -> str:
    """Every column of every supplier row, as the database holds it."""
    async with api.runtime.engine.connect() as connection:
        rows = (await connection.execute(select(SupplierRow.__table__))).all()
    return "\n".join(" | ".join(str(value) for value in row) for row in rows)


def classified_values(suppliers) -> list[str]:
    values = []
    for supplier in suppliers:
        values.append(supplier.tax_id)
        if supplier.remit_to is not None:
            values += [supplier.remit_to.routing_number, supplier.remit_to.account_number]
    return values


async def test_no_seeded_supplier_has_a_classified_value_stored_in_plain(workflow_api, network):
    stored = await stored_text(workflow_api)

    plain = [value for value in classified_values(network.suppliers) if value in stored]

    assert plain == []
    assert sum(1 for s in network.suppliers if s.remit_to) > 0  # the check saw bank accounts


async def test_suppliers_imported_as_the_cli_does_are_sealed_and_read_back_whole(
    workflow_api, network
):
    # given new suppliers imported through the store the `apgraph import` command uses
    bundle = new_suppliers(network, count=3)
    runtime = workflow_api.runtime
    report = await import_bundle(
        bundle,
        store=SqlMasterData(runtime.engine, runtime.keyring),
        actor="test",
        clock=FixedClock(),
    )
    assert report.applied, [p.line() for p in report.problems]

    # then the database holds none of their classified values in plain
    stored = await stored_text(workflow_api)
    assert [v for v in classified_values(e.supplier for e in bundle.suppliers) if v in stored] == []

    # and the finance admin reads them whole through the API
    supplier = bundle.suppliers[0].supplier
    data = await workflow_api.data(SUPPLIER, {"id": supplier.id})
    assert data["supplier"] == {
        "id": supplier.id,
        "legalName": supplier.legal_name,
        "taxId": supplier.tax_id,
        "remitTo": {
            "routingNumber": supplier.remit_to.routing_number,
            "accountNumber": supplier.remit_to.account_number,
            "last4": supplier.remit_to.account_number[-4:],
        },
    }


async def test_suppliers_written_through_the_api_are_sealed_and_masked_as_before(
    workflow_api, network
):
    # given new suppliers uploaded with importMasterData
    bundle = new_suppliers(network, count=2)
    report = await imported(workflow_api, "bundle.json", write_json(bundle))
    assert report["applied"], report

    # then none of their classified values is stored in plain
    stored = await stored_text(workflow_api)
    assert [v for v in classified_values(e.supplier for e in bundle.suppliers) if v in stored] == []

    # and a clerk without suppliers:bank:read sees the account masked, as before
    supplier = bundle.suppliers[1].supplier
    clerk = workflow_api.token(Role.AP_CLERK)
    data = await workflow_api.data(
        SUPPLIER, {"id": supplier.id}, token=clerk, product="finance-ops/v1"
    )
    number = supplier.remit_to.account_number
    assert data["supplier"]["remitTo"]["accountNumber"] == "•" * (len(number) - 4) + number[-4:]
    assert data["supplier"]["taxId"] == supplier.tax_id


async def test_importing_the_same_suppliers_again_writes_nothing(workflow_api, network):
    # sealing is randomised, so the comparison must be of plain values, not of ciphertexts
    bundle = new_suppliers(network, count=2)
    first = await imported(workflow_api, "bundle.json", write_json(bundle))
    second = await imported(workflow_api, "bundle.json", write_json(bundle))

    assert first["applied"]
    assert second["applied"]
    suppliers = next(c for c in second["counts"] if c["entity"] == "suppliers")
    assert (suppliers["created"], suppliers["updated"], suppliers["unchanged"]) == (0, 0, 2)


async def test_the_same_bank_account_at_two_suppliers_is_found_by_its_keyed_hash(
    workflow_api, network
):
    # given two new suppliers paid into one account
    bundle = new_suppliers(network, count=2, account="5550001234567")
    await imported(workflow_api, "bundle.json", write_json(bundle))
    runtime = workflow_api.runtime

    # when suppliers sharing a bank account are looked for
    repository = SupplierRepository(runtime.engine, RowScope(), runtime.keyring)
    groups = await repository.sharing_bank_accounts()

    # then the two are one group, found without the number being stored anywhere in plain
    assert sorted(e.supplier.id for e in bundle.suppliers) in groups
    assert "5550001234567" not in await stored_text(workflow_api)


async def test_a_tampered_value_is_an_error_for_that_field_alone_and_is_audited(
    workflow_api, network
):
    # given a supplier whose stored account number was replaced by another supplier's
    bundle = new_suppliers(network, count=2)
    await imported(workflow_api, "bundle.json", write_json(bundle))
    victim, donor = (e.supplier for e in bundle.suppliers)
    table = SupplierRow.__table__
    async with workflow_api.runtime.engine.begin() as connection:
        donated = (
            await connection.execute(
                select(table.c.bank_account_number).where(table.c.id == donor.id)
            )
        ).scalar_one()
        await connection.execute(
            update(table).where(table.c.id == victim.id).values(bank_account_number=donated)
        )
    before = await audit_count(workflow_api, "field.unreadable")

    # when the finance admin reads it
    body = await workflow_api.graphql(SUPPLIER, {"id": victim.id})

    # then the bank account alone fails, with a stable code; the rest of the supplier answers
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FIELD_UNREADABLE"]
    assert body["errors"][0]["path"] == ["supplier", "remitTo", "accountNumber"]
    assert body["data"]["supplier"]["legalName"] == victim.legal_name
    assert body["data"]["supplier"]["taxId"] == victim.tax_id
    assert body["data"]["supplier"]["remitTo"] is None
    assert donor.remit_to.account_number not in str(body)
    # and the failure is in the audit trail, naming the supplier
    assert await audit_count(workflow_api, "field.unreadable") == before + 1
    latest = await workflow_api.data(
        '{ auditLog(filter: {action: "field.unreadable"}, first: 1)'
        " { edges { node { entityIds outcome } } } }"
    )
    assert latest["auditLog"]["edges"][0]["node"] == {
        "entityIds": [victim.id],
        "outcome": "FAILED",
    }


async def audit_count(api, action):
    data = await api.data(
        "query($a: String) { auditLog(filter: {action: $a}, first: 1) { totalCount } }",
        {"a": action},
    )
    return data["auditLog"]["totalCount"]
