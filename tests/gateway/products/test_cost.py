"""An operation's cost, from the document and its variables alone: a table of documents."""

import pytest
from graphql import build_schema, parse

from apgraph.gateway.products.cost import CostModel, Prices
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


PAGED = (
    "query($n: Int, $after: String) "
    "{ invoices(first: $n, after: $after) { edges { node { id } } } }"
)


class CountingModel(CostModel):
    """Counts the walks, to tell a remembered price from one worked out again."""

    walks: list[str]

    def priced(self, *args, **kwargs):
        self.walks.append("walk")
        return super().priced(*args, **kwargs)


def counting_prices() -> tuple[Prices, list[str]]:
    model = CountingModel(CostWeights(), default_page_size=20, max_page_size=100)
    walks: list[str] = []
    object.__setattr__(model, "walks", walks)
    return Prices(model), walks


def test_a_price_is_remembered_for_the_same_text_and_page_sizes_whatever_else_changes():
    prices, walks = counting_prices()
    document = parse(PAGED)
    first = prices.of(SCHEMA, document, query=PAGED, operation_name=None, variables={"n": 5})
    again = prices.of(
        SCHEMA, document, query=PAGED, operation_name=None, variables={"n": 5, "after": "x"}
    )
    assert first == again == 11
    assert walks == ["walk"]


def test_another_page_size_is_priced_afresh():
    prices, walks = counting_prices()
    document = parse(PAGED)

    def price(n: int) -> int:
        return prices.of(SCHEMA, document, query=PAGED, operation_name=None, variables={"n": n})

    assert (price(5), price(9)) == (11, 19)
    # over the product's largest page: priced as the largest page, as the walk would
    assert price(10**6) == price(500) == 1 + 100 * 2
    assert walks == ["walk"] * 3


def test_each_operation_of_a_document_has_its_own_price():
    text = (
        "query One { invoices(first: 2) { edges { node { id } } } } "
        "query Two { invoice(id: 1) { id } }"
    )
    prices, _ = counting_prices()
    document = parse(text)
    assert prices.of(SCHEMA, document, query=text, operation_name="One", variables=None) == 5
    assert prices.of(SCHEMA, document, query=text, operation_name="Two", variables=None) == 1
    assert prices.of(SCHEMA, document, query=text, operation_name="One", variables=None) == 5


def test_without_its_text_an_operation_is_priced_every_time():
    prices, walks = counting_prices()
    document = parse(PAGED)
    for _ in range(2):
        assert prices.of(SCHEMA, document, query=None, operation_name=None, variables={}) == 41
    assert walks == ["walk", "walk"]
