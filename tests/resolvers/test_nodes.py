"""node(id) and viewer."""

import pytest

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


@pytest.mark.parametrize(
    ("collection", "typename"),
    [
        ("facilities", "Facility"),
        ("cost_centers", "CostCenter"),
        ("suppliers", "Supplier"),
        ("purchase_orders", "PurchaseOrder"),
        ("invoices", "Invoice"),
        ("payments", "Payment"),
    ],
)
async def test_any_major_object_is_found_by_its_id(api, network, collection, typename):
    entity = getattr(network, collection)[0]
    data = await api.data(NODE, {"id": entity.id})
    assert data["node"] == {"__typename": typename, "id": entity.id}


async def test_an_id_of_no_known_form_is_bad_user_input(api):
    body = await api.graphql(NODE, {"id": "XYZ-1"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_viewer_is_the_token_holder(api):
    data = await api.data("{ viewer { subject roles supplierId facilityIds } }")
    assert data["viewer"] == {
        "subject": "finance.admin",
        "roles": ["finance_admin"],
        "supplierId": None,
        "facilityIds": None,
    }
