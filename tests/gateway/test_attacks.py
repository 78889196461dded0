"""The attacker's side, over real HTTP against PostgreSQL: other suppliers' data, other
facilities, missing scopes. Queries are generated from the live schema, so a field added
later is attacked too without anyone remembering to write its test.
"""

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from apgraph.domain.ids import EntityKind
from apgraph.domain.principal import Role
from tests.gateway import partners
from tests.gateway.schema_probe import INTROSPECTION, Schema, probes

UNKNOWN = {
    "supplier": "SUP-999999",
    "invoice": "INV-99999999",
    "purchase_order": "PO-2026-999999",
    "payment": "PAY-99999999",
    "id": None,  # a lookup by id reuses the unknown ID of its kind
}


def owned_by(network, supplier_id):
    invoices = [i for i in network.invoices if i.supplier_id == supplier_id]
    invoice_ids = {i.id for i in invoices}
    return {
        "supplier": [supplier_id],
        "invoice": sorted(invoice_ids),
        "purchase_order": sorted(
            o.id for o in network.purchase_orders if o.supplier_id == supplier_id
        ),
        "payment": sorted(p.id for p in network.payments if p.supplier_id == supplier_id),
        "attachment": sorted(a.id for a in network.attachments if a.invoice_id in invoice_ids),
    }


@pytest.fixture(scope="module")
def attacker_and_victim(network):
    """A: the busiest supplier. B: another with invoices, POs, payments and attachments, and
    none of the IDs an invalid-ID message quotes as the form expected (INV-00000001 …): one of
    those in an answer to A's blank probe would read as B's."""
    counts = Counter(i.supplier_id for i in network.invoices)
    attacker = counts.most_common(1)[0][0]
    examples = {kind.example for kind in EntityKind}
    for supplier_id, _ in counts.most_common():
        owned = owned_by(network, supplier_id)
        ids = {value for values in owned.values() for value in values}
        if supplier_id != attacker and all(owned.values()) and not ids & examples:
            return attacker, supplier_id, owned
    pytest.fail("the demo network has no second supplier with every kind of document")


def normalised(body, replacements):
    text = json.dumps(body, sort_keys=True)
    for kind, value in replacements.items():
        if value:
            text = text.replace(value, f"<{kind}>")
    return text


# Each attack runs on every version of the supplier's product (/graphql refuses suppliers
# and approvers before any resolver: test_operators_only.py).
PORTAL = "supplier-portal/v1"
FINANCE = "finance-ops/v1"
SUPPLIER_ENDPOINTS = pytest.mark.parametrize(
    "product", [PORTAL, "supplier-portal/v2"], ids=["portal-v1", "portal-v2"]
)


@SUPPLIER_ENDPOINTS
async def test_supplier_a_gets_nothing_of_supplier_b_from_any_field(
    live_api, attacker_and_victim, product
):
    attacker, victim, owned = attacker_and_victim
    token = live_api.token(Role.SUPPLIER, supplier_id=attacker)
    # the endpoint's whole schema: the product's view as the supplier sees it
    shown = await live_api.data(INTROSPECTION, token=token, product=product)
    schema = Schema.from_introspection(shown)
    aimable = {kind: ids for kind, ids in owned.items() if kind != "attachment"}
    every_id_of_b = {value for ids in owned.values() for value in ids}
    probed = set()
    for root in filter(None, [schema.query, schema.mutation]):
        for field in schema.types[root]["fields"]:
            for query, variables, used in probes(schema, root, field, aimable):
                # when A aims the field at B's IDs, and at IDs that exist nowhere
                aimed = await live_api.graphql(query, variables, token=token, product=product)
                unknown = {
                    kind: UNKNOWN[kind] or UNKNOWN[_kind_of(value)] for kind, value in used.items()
                }
                blank = await live_api.graphql(
                    query, _substitute(variables, used, unknown), token=token, product=product
                )

                # then B's data answers exactly as if it did not exist, and none of it leaks
                assert normalised(aimed, used) == normalised(blank, unknown), (
                    f"{root}.{field['name']} tells B's {used} apart from unknown IDs"
                )
                leaked = sorted(v for v in every_id_of_b if v in normalised(aimed, used))
                assert leaked == [], f"{root}.{field['name']} leaked {leaked}"
                probed.add(field["name"])
    roots = filter(None, [schema.query, schema.mutation])
    assert probed == {f["name"] for root in roots for f in schema.types[root]["fields"]}


def _without_cost(body):
    """A product reports each operation's cost in `extensions`: the same for both lookups."""
    return {key: value for key, value in body.items() if key != "extensions"}


def _kind_of(value):
    prefix = value.split("-")[0]
    return {"SUP": "supplier", "INV": "invoice", "PO": "purchase_order", "PAY": "payment"}[prefix]


def _substitute(variables, used, unknown):
    text = json.dumps(variables)
    for kind, value in used.items():
        text = text.replace(f'"{value}"', f'"{unknown[kind]}"')
    return json.loads(text)


@SUPPLIER_ENDPOINTS
async def test_supplier_a_counts_and_pages_only_its_own_invoices(
    live_api, network, attacker_and_victim, product
):
    attacker, _, _ = attacker_and_victim
    token = live_api.token(Role.SUPPLIER, supplier_id=attacker)
    own = sorted(i.id for i in network.invoices if i.supplier_id == attacker)
    seen, after = [], None
    while True:
        page = (
            await live_api.data(
                "query($after: String) { invoices(first: 100, after: $after) {"
                " totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }",
                {"after": after},
                token=token,
                product=product,
            )
        )["invoices"]
        assert page["totalCount"] == len(own)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == own


async def test_supplier_a_cannot_download_supplier_b_attachments(live_api, attacker_and_victim):
    attacker, _, owned = attacker_and_victim
    headers = {"Authorization": f"Bearer {live_api.token(Role.SUPPLIER, supplier_id=attacker)}"}
    theirs = await live_api.client.get(
        f"/attachments/{owned['attachment'][0]}/content", headers=headers
    )
    nobodys = await live_api.client.get("/attachments/DOC-99999999/content", headers=headers)
    assert theirs.status_code == nobodys.status_code == 404
    assert theirs.json()["message"].replace(owned["attachment"][0], "X") == nobodys.json()[
        "message"
    ].replace("DOC-99999999", "X")


async def test_an_approver_sees_nothing_of_another_facility(live_api, network):
    product = FINANCE
    own, other = "FAC-0001", "FAC-0002"
    token = live_api.token(Role.APPROVER, facility_ids=[own])
    foreign = next(i for i in network.invoices if i.facility_id == other)
    lookup = "query($id: ID!) { invoice(id: $id) { id } }"
    aimed = await live_api.graphql(lookup, {"id": foreign.id}, token=token, product=product)
    blank = await live_api.graphql(lookup, {"id": "INV-99999999"}, token=token, product=product)
    assert _without_cost(aimed) == _without_cost(blank)
    data = await live_api.data(
        "query($f: ID) { invoices(filter: {facilityId: $f}) { totalCount } "
        "all: invoices { totalCount } }",
        {"f": other},
        token=token,
        product=product,
    )
    assert data["invoices"]["totalCount"] == 0
    assert data["all"]["totalCount"] == sum(1 for i in network.invoices if i.facility_id == own)


PARTNER_INVOICES = (
    "query Invoices { invoices(first: 100) { totalCount edges { node { facility { id } } } } }"
)


async def test_a_partner_client_sees_only_the_facilities_it_was_registered_for(
    live_api, network, tmp_path
):
    # given a client registered for FAC-0003, whose token claims wider facilities
    client = await partners.register(live_api, facilities=["FAC-0003"])
    token = partners.token_for(live_api, client, facility_ids=["FAC-0001", "FAC-0002", "FAC-0003"])

    # when it lists invoices on its product, with an operation it registered
    async with partners.partner_endpoint(live_api, tmp_path, PARTNER_INVOICES) as partner:
        data = await partner.data(PARTNER_INVOICES, token=token, product="partner-procurement/v1")

    # then the registry, not the token's claim, decides
    assert {e["node"]["facility"]["id"] for e in data["invoices"]["edges"]} == {"FAC-0003"}
    assert data["invoices"]["totalCount"] == sum(
        1 for i in network.invoices if i.facility_id == "FAC-0003"
    )


async def test_a_partner_token_that_names_no_client_is_refused(live_api):
    token = live_api.issuer.issue(
        subject="cli_made_up",
        now=datetime.now(UTC),
        claims={"roles": ["partner"], "facility_ids": ["FAC-0001"]},
    ).access_token
    response = await live_api.client.post(
        "/graphql",
        json={"query": "{ viewer { subject } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401
    assert "registered client" in response.headers["www-authenticate"]
