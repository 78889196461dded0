"""An operation's cost, from the document and its variables alone: a table of documents."""

import pytest
from graphql import build_schema, parse

from apgraph.gateway.products.cost import CostModel
from apgraph.policies.products import CostWeights

SCHEMA = build_schema(
    """
    interface Node { id: ID! }
    type Line { quantity: Int! item: Item }
    type Item { name: String! }
    type Invoice implements Node { id: ID! total: Int! lines: [Line!]! supplier: Supplier }
    type Supplier implements Node { id: ID! name: String! }
    type InvoiceEdge { node: Invoice! cursor: String! }
    type InvoiceConnection { edges: [InvoiceEdge!]! totalCount: Int! }
    type Query {
      node(id: ID!): Node
      invoice(id: ID!): Invoice
      invoices(first: Int, after: String): InvoiceConnection
    }
    type Mutation { hold(id: ID!): Invoice }
    """
)
MODEL = CostModel(CostWeights(), default_page_size=20, max_page_size=100)


def cost(query: str, variables: dict | None = None, model: CostModel = MODEL) -> int:
    return model.of(SCHEMA, parse(query), operation_name=None, variables=variables)


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        ("{ invoice(id: 1) { id total } }", None, 1),  # one object, scalars free
        ("{ invoice(id: 1) { supplier { name } } }", None, 2),
        ("{ invoices(first: 50) { totalCount } }", None, 1),  # nothing under the page
        ("{ invoices(first: 50) { edges { node { id } } } }", None, 1 + 50 * 2),
        ("{ invoices { edges { node { id } } } }", None, 1 + 20 * 2),  # the default page
        ("query($n: Int) { invoices(first: $n) { edges { node { id } } } }", {"n": 5}, 11),
        ("query($n: Int) { invoices(first: $n) { edges { node { id } } } }", {}, 41),
        ("{ invoices(first: 5000) { edges { node { id } } } }", None, 1 + 100 * 2),  # capped
        ("{ invoice(id: 1) { lines { quantity } } }", None, 1 + 10 * 1),  # an unpaged list
        ("{ node(id: 1) { id ... on Invoice { lines { quantity } } } }", None, 1 + 1 + 10),
        ("{ invoice(id: 1) { ...F } } fragment F on Invoice { supplier { id } }", None, 2),
        ("mutation { hold(id: 1) { id } }", None, 1 + 10),  # a mutation field costs 10 more
    ],
)
def test_the_cost_of_a_document(query, variables, expected):
    assert cost(query, variables) == expected


def test_a_field_weight_overrides_the_default():
    weighted = CostModel(
        CostWeights(fields={"Invoice.supplier": 25}), default_page_size=20, max_page_size=100
    )
    assert cost("{ invoice(id: 1) { supplier { id } } }", model=weighted) == 1 + 25


def test_nested_pages_multiply():
    # 10 invoices x 10 lines x (line + item)
    assert cost("{ invoices(first: 10) { edges { node { lines { item { name } } } } } }") == (
        1 + 10 * (1 + 1 + 10 * (1 + 1))
    )
