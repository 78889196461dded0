"""The README and docs/ hold up: their links lead somewhere, their GraphQL examples are valid
against the schema as built, and the demo IDs the README names behave as it says."""

import re
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from apgraph.demo.generator import DemoSize, generate
from apgraph.domain.payment_runs import PaymentRunStatus
from apgraph.domain.payments import OPEN, PaymentStatus
from apgraph.gateway.schema import build_schema as build_apgraph_schema
from apgraph.policies.loader import load_gateway_config

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"\]\(([^)\s]+)\)")
GRAPHQL_BLOCK = re.compile(r"```graphql\n(.*?)```", re.S)
# an operation, not an SDL excerpt
OPERATION = re.compile(r"^\s*(#.*\n\s*)*(query|mutation|subscription|fragment|\{)")


def relative_links(document: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(document.read_text(encoding="utf-8"))
        if not re.match(r"[a-z]+:", target) and not target.startswith("#")
    ]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_relative_link_leads_to_a_file_that_exists(document):
    broken = [
        target
        for target in relative_links(document)
        if not (document.parent / target.split("#", 1)[0]).exists()
    ]
    assert broken == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_graphql_example_is_valid_against_the_schema(document):
    config = load_gateway_config(ROOT / "gateway.yaml")
    built = build_apgraph_schema(config, show_error_detail=False, expose_sql_statements=False)
    schema = build_schema(str(built))
    problems = [
        f"{document.name}: {error.message}"
        for block in GRAPHQL_BLOCK.findall(document.read_text(encoding="utf-8"))
        if OPERATION.match(block)
        for error in validate(schema, parse(block))
    ]
    assert problems == []


def test_the_readme_names_demo_records_that_behave_as_it_says():
    network = generate(DemoSize())  # what `apgraph serve` seeds, whatever the day
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    orders = {order.id: order for order in network.purchase_orders}
    example = re.search(
        r'validatePurchaseOrder\(input: \{purchaseOrderId: "([^"]+)", '
        r'supplierId: "([^"]+)"',
        readme,
    )
    assert example is not None
    order = orders[example.group(1)]
    assert order.supplier_id == example.group(2)
    assert order.status.accepts_invoices  # the example answers valid, not PO_CLOSED
    centers = {c.id: c for c in network.cost_centers}
    assert centers["CC-0001-4410"].active
    assert "INV-00000042" in {i.id for i in network.invoices}
    assert "PAY-00000001" in {p.id for p in network.payments}
    # the demo's payments: runs to act on, a forecast for SUP-000001, held and failed payments
    payments = {p.id: p for p in network.payments}
    assert payments["PAY-00000042"].status is PaymentStatus.PAID  # RemittanceAdvice
    statuses = {r.status for r in network.payment_runs}
    assert {PaymentRunStatus.PROPOSED, PaymentRunStatus.APPROVED} <= statuses
    assert any(p.supplier_id == "SUP-000001" and p.status in OPEN for p in network.payments)
    assert any(p.held for p in network.payments)
    assert any(p.status is PaymentStatus.FAILED for p in network.payments)
