"""A product entry in gateway.yaml that cannot be served stops `apgraph serve` at start with
one line naming the key, before the database is touched."""

import pytest
import yaml

from tests.cli.test_serve import ROOT, run_and_fail

SHIPPED = yaml.safe_load((ROOT / "gateway.yaml").read_text(encoding="utf-8"))
PORTAL_V1 = SHIPPED["products"]["supplier-portal"]["versions"]["v1"]


def with_portal_v1(**changes: object) -> dict:
    portal = SHIPPED["products"]["supplier-portal"]
    versions = {"v1": {**PORTAL_V1, **changes}}
    products = {**SHIPPED["products"], "supplier-portal": {**portal, "versions": versions}}
    return {**SHIPPED, "products": products}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            with_portal_v1(status="sunsetting"),
            "products.supplier-portal.versions.v1.status: Input should be 'beta', 'active', "
            "'deprecated' or 'retired'",
        ),
        (
            with_portal_v1(status="retired"),
            "products.supplier-portal.versions.v1: Value error, a retired version must name "
            "its successor",
        ),
        (
            with_portal_v1(view={**PORTAL_V1["view"], "Query": ["invoices", "invoicez"]}),
            "products.supplier-portal.versions.v1.view.Query: no field `invoicez` on Query",
        ),
        (
            with_portal_v1(view={**PORTAL_V1["view"], "hidden": ["Invoice.nope"]}),
            "products.supplier-portal.versions.v1.view.hidden: no field `Invoice.nope` in the "
            "schema",
        ),
        (
            with_portal_v1(view={**PORTAL_V1["view"], "hidden": ["Query.invoices(nope)"]}),
            "products.supplier-portal.versions.v1.view.hidden: Query.invoices(nope): no "
            "argument `nope` in the schema",
        ),
        (
            with_portal_v1(view={**PORTAL_V1["view"], "hidden": ["Query.invoice(id)"]}),
            "products.supplier-portal.versions.v1.view.hidden: Query.invoice(id): a required "
            "argument cannot be hidden",
        ),
        (
            with_portal_v1(view={**PORTAL_V1["view"], "hidden": ["InvoiceStatus.PAYED"]}),
            "products.supplier-portal.versions.v1.view.hidden: InvoiceStatus.PAYED: no value "
            "`PAYED` in the schema",
        ),
    ],
)
def test_a_malformed_product_stops_the_server_with_one_line_naming_the_key(
    tmp_path, config, expected
):
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")

    result = run_and_fail(
        "serve", "--data-dir", str(tmp_path / "data"), "--gateway-config", str(path)
    )

    (line,) = result.stderr.strip().splitlines()
    assert line == f"apgraph: {path}: {expected}"
    assert not (tmp_path / "data").exists()
