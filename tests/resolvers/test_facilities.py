"""facility, facilities, costCenter, validateCostCenter(facilityId, code)."""

VALIDATE = """
query($facility: ID!, $code: String!) {
  validateCostCenter(facilityId: $facility, code: $code) {
    valid reasons { code } costCenter { id active }
  }
}
"""


async def test_facilities_list_every_facility_with_its_cost_centers(api, network):
    data = await api.data(
        "{ facilities(first: 50) { totalCount edges { node { id name costCenters { id } } } } }"
    )
    facilities = data["facilities"]
    assert facilities["totalCount"] == len(network.facilities)
    first = facilities["edges"][0]["node"]
    expected = sorted(c.id for c in network.cost_centers if c.facility_id == first["id"])
    assert [c["id"] for c in first["costCenters"]] == expected


async def test_an_active_cost_center_of_the_facility_is_valid(api, network):
    cost_center = next(c for c in network.cost_centers if c.active)
    data = await api.data(VALIDATE, {"facility": cost_center.facility_id, "code": cost_center.code})
    assert data["validateCostCenter"] == {
        "valid": True,
        "reasons": [],
        "costCenter": {"id": cost_center.id, "active": True},
    }


async def test_an_inactive_cost_center_is_invalid(api, network):
    cost_center = next(c for c in network.cost_centers if not c.active)
    data = await api.data(VALIDATE, {"facility": cost_center.facility_id, "code": cost_center.code})
    assert data["validateCostCenter"]["valid"] is False
    assert data["validateCostCenter"]["reasons"] == [{"code": "COST_CENTER_INVALID"}]


async def test_a_code_of_another_facility_only_is_a_facility_mismatch(api, network):
    codes_by_facility = {}
    for c in network.cost_centers:
        codes_by_facility.setdefault(c.code, set()).add(c.facility_id)
    facility_ids = {f.id for f in network.facilities}
    code, at = next((code, fs) for code, fs in codes_by_facility.items() if fs != facility_ids)
    elsewhere = sorted(facility_ids - at)[0]
    data = await api.data(VALIDATE, {"facility": elsewhere, "code": code})
    assert data["validateCostCenter"]["reasons"] == [{"code": "COST_CENTER_FACILITY_MISMATCH"}]


async def test_an_unknown_code_is_invalid_and_an_unknown_facility_is_reported(api, network):
    data = await api.data(VALIDATE, {"facility": network.facilities[0].id, "code": "0000"})
    assert data["validateCostCenter"]["reasons"] == [{"code": "COST_CENTER_INVALID"}]
    data = await api.data(VALIDATE, {"facility": "FAC-9999", "code": "4410"})
    assert data["validateCostCenter"]["reasons"] == [{"code": "FACILITY_NOT_FOUND"}]


async def test_a_code_that_is_not_a_gl_segment_is_bad_user_input(api, network):
    body = await api.graphql(VALIDATE, {"facility": network.facilities[0].id, "code": "44'10"})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "code"}
