"""Classified fields: masked without the scope, and every unmasked read is audited."""

from apgraph.domain.principal import Role
from tests.gateway import partners

REMIT_TO = """
query BankDetails($id: ID!) {
  supplier(id: $id) { id taxId remitTo { accountNumber last4 } }
}
"""


TAX_ID = "query SupplierTaxId($id: ID!) { supplier(id: $id) { id taxId } }"
PORTAL = "supplier-portal/v1"
FINANCE = "finance-ops/v1"


def with_bank_account(network):
    return next(s for s in network.suppliers if s.remit_to is not None)


async def test_without_the_bank_scope_only_the_last_four_digits_show(live_api, network):
    supplier = with_bank_account(network)
    clerk = live_api.token(Role.AP_CLERK)  # suppliers:read, but not suppliers:bank:read
    data = await live_api.data(REMIT_TO, {"id": supplier.id}, token=clerk, product=FINANCE)
    number = supplier.remit_to.account_number
    assert data["supplier"]["remitTo"] == {
        "accountNumber": "•" * (len(number) - 4) + number[-4:],
        "last4": number[-4:],
    }


async def test_a_supplier_sees_its_own_account_masked_too(live_api, network):
    supplier = with_bank_account(network)
    token = live_api.token(Role.SUPPLIER, supplier_id=supplier.id)
    data = await live_api.data(REMIT_TO, {"id": supplier.id}, token=token, product=PORTAL)
    assert supplier.remit_to.account_number not in str(data)


async def test_an_unmasked_read_is_recorded_with_the_supplier_it_concerns(live_api, network):
    # given the finance admin, who holds suppliers:bank:read
    supplier = with_bank_account(network)
    before = await audit_count(live_api, "field.read")

    # when she reads the account number
    data = await live_api.data(REMIT_TO, {"id": supplier.id})

    # then she sees it whole, and the audit trail names what she read, of whom
    assert data["supplier"]["remitTo"]["accountNumber"] == supplier.remit_to.account_number
    assert await audit_count(live_api, "field.read") == before + 1
    latest = await live_api.data(
        '{ auditLog(filter: {action: "field.read"}, first: 1)'
        " { edges { node { subject entityIds detail } } } }"
    )
    assert latest["auditLog"]["edges"][0]["node"] == {
        "subject": "finance.admin",
        "entityIds": [supplier.id],
        "detail": "BankDetails: BankAccount.accountNumber",
    }


async def test_a_masked_read_is_not_an_audited_read(live_api, network):
    before = await audit_count(live_api, "field.read")
    clerk = live_api.token(Role.AP_CLERK)
    await live_api.data(
        REMIT_TO, {"id": with_bank_account(network).id}, token=clerk, product=FINANCE
    )
    assert await audit_count(live_api, "field.read") == before


async def test_tax_ids_are_masked_for_partner_systems(live_api, network, tmp_path):
    supplier = network.suppliers[0]
    partner = partners.token_for(
        live_api, await partners.register(live_api, facilities=["FAC-0001"])
    )
    # on the partner product (which hides remit-to accounts from partners), with the
    # operation registered on its allow-list
    async with partners.partner_endpoint(live_api, tmp_path, TAX_ID) as served:
        data = await served.data(
            TAX_ID, {"id": supplier.id}, token=partner, product="partner-procurement/v1"
        )
    tax_id = supplier.tax_id
    assert data["supplier"]["taxId"] == "•" * (len(tax_id) - 4) + tax_id[-4:]


async def audit_count(api, action):
    data = await api.data(
        "query($a: String) { auditLog(filter: {action: $a}, first: 1) { totalCount } }",
        {"a": action},
    )
    return data["auditLog"]["totalCount"]
