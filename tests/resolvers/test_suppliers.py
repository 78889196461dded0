"""supplier(id), suppliers(filter, first, after): the supplier master over HTTP."""

SUPPLIER = """
query One($id: ID!) {
  supplier(id: $id) {
    id legalName status taxTreatment taxRate
    remitTo { bankName accountNumber last4 }
    contacts { name email }
  }
}
"""

SUPPLIERS = """
query Page($filter: SupplierFilter, $first: Int, $after: String) {
  suppliers(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id status } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    totalCount
  }
}
"""


async def test_a_supplier_is_found_by_its_canonical_id(api, network):
    # given a supplier of the demo network
    expected = network.suppliers[0]

    # when it is looked up
    data = await api.data(SUPPLIER, {"id": expected.id})

    # then its master data comes back, amounts as decimal strings
    found = data["supplier"]
    assert found["id"] == expected.id
    assert found["legalName"] == expected.legal_name
    assert found["status"] == expected.status.value
    assert found["taxRate"] == str(expected.tax_rate)


async def test_an_unknown_supplier_is_null_not_an_error(api):
    body = await api.graphql(SUPPLIER, {"id": "SUP-999999"})
    assert body == {"data": {"supplier": None}, "extensions": body.get("extensions")}
    assert "errors" not in body


async def test_a_malformed_supplier_id_is_bad_user_input(api):
    body = await api.graphql(SUPPLIER, {"id": "SUP-12"})
    assert body["data"] == {"supplier": None}
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == "id"


async def test_paging_through_suppliers_visits_each_exactly_once(api, network):
    seen = []
    after = None
    while True:
        data = await api.data(SUPPLIERS, {"first": 7, "after": after})
        page = data["suppliers"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["totalCount"] == len(network.suppliers)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(s.id for s in network.suppliers)


async def test_suppliers_filter_by_status(api, network):
    blocked = sorted(s.id for s in network.suppliers if s.status.value == "BLOCKED")
    data = await api.data(SUPPLIERS, {"filter": {"status": ["BLOCKED"]}, "first": 100})
    assert [edge["node"]["id"] for edge in data["suppliers"]["edges"]] == blocked
    assert blocked, "the demo network has blocked suppliers"
    assert data["suppliers"]["totalCount"] == len(blocked)


async def test_suppliers_filter_by_part_of_the_name_ignores_case(api, network):
    target = network.suppliers[3]
    word = target.legal_name.split()[0].upper()
    expected = sorted(s.id for s in network.suppliers if word.lower() in s.legal_name.lower())
    data = await api.data(SUPPLIERS, {"filter": {"nameContains": word}, "first": 100})
    assert [edge["node"]["id"] for edge in data["suppliers"]["edges"]] == expected[:100]


async def test_a_page_larger_than_the_maximum_is_refused(api):
    body = await api.graphql(SUPPLIERS, {"first": 101})
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


async def test_a_page_of_zero_is_refused(api):
    body = await api.graphql(SUPPLIERS, {"first": 0})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_forged_cursor_is_refused(api):
    for cursor in ["not-base64!", "YXBncmFwaDpJTlYtMDAwMDAwMDE=", "AAAA"]:  # 2nd: an invoice id
        body = await api.graphql(SUPPLIERS, {"first": 5, "after": cursor})
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


async def test_bank_account_number_is_shown_whole_with_the_bank_scope(api, network):
    # the demo finance admin holds suppliers:bank:read
    supplier = next(s for s in network.suppliers if s.remit_to is not None)
    data = await api.data(SUPPLIER, {"id": supplier.id})
    assert data["supplier"]["remitTo"]["accountNumber"] == supplier.remit_to.account_number
    assert data["supplier"]["remitTo"]["last4"] == supplier.remit_to.account_number[-4:]
