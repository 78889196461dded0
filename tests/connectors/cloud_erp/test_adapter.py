"""The cloud ERP adapter against its simulator over real HTTP (REST + OAuth2) on loopback."""

from datetime import date

import pytest

from apgraph.connectors.resilience import OutcomeUnknown
from apgraph.domain.codes import ConnectorCode
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import (
    ConnectorError,
    ConnectorMappingError,
    ConnectorRejected,
    PostingState,
)
from apgraph.simulators.faults import Fault, FaultKind
from tests.connectors.support import HANG, build_stack, fresh_invoice, new_key

POST = "POST /api/v2/invoices"
FIND = "GET /api/v2/invoices"
TOKEN = "POST /oauth2/token"


@pytest.fixture
def erp(served):
    return served.simulators.cloud_erp


async def test_a_posting_returns_the_document_the_cloud_erp_booked(stack, erp, network):
    invoice, key = fresh_invoice(network, facility="FAC-0004"), new_key()

    document = await stack.cloud.post_invoice(invoice, idempotency_key=key)

    assert document.system is ExternalSystem.CLOUD_ERP
    assert document.reference.startswith("CLD-")
    assert (document.invoice_id, document.total, document.currency) == (
        invoice.id,
        invoice.total,
        invoice.currency,
    )
    assert len(erp.book.postings_of(invoice.id)) == 1
    assert await stack.ledger.state_of(ExternalSystem.CLOUD_ERP, key) is PostingState.POSTED


async def test_the_token_is_fetched_once_and_reused(stack, erp, network):
    fetched = erp.tokens.fetched

    await stack.cloud.vendors()
    await stack.cloud.post_invoice(fresh_invoice(network), idempotency_key=new_key())
    await stack.cloud.payment_releases(since=date(2026, 1, 1))

    assert erp.tokens.fetched == fetched + 1


async def test_a_revoked_token_is_replaced_once_and_the_call_repeated(stack, erp):
    await stack.cloud.vendors()
    fetched = erp.tokens.fetched
    erp.tokens.revoke_all()

    vendors = await stack.cloud.vendors()

    assert vendors
    assert erp.tokens.fetched == fetched + 1
    assert erp.plan.calls["GET /api/v2/suppliers"] == 3  # before; the 401; the repeat


async def test_a_wrong_client_secret_is_a_rejection_not_retried(served, ledger_engine, erp):
    stack = build_stack(served, ledger_engine, client_secret="not-the-secret")
    try:
        with pytest.raises(ConnectorRejected) as refused:
            await stack.cloud.vendors()
    finally:
        await stack.aclose()

    assert refused.value.code is ConnectorCode.ERP_REJECTED
    assert "invalid_client" in str(refused.value)
    assert erp.plan.calls[TOKEN] == 1


async def test_a_repeated_key_returns_the_first_document(stack, erp, network):
    invoice, key = fresh_invoice(network), new_key()
    first = await stack.cloud.post_invoice(invoice, idempotency_key=key)

    again = await stack.cloud.post_invoice(invoice, idempotency_key=key)

    assert again == first
    assert len(erp.book.postings_of(invoice.id)) == 1


async def test_a_409_duplicate_is_a_rejection_never_retried(stack, erp, network):
    invoice = fresh_invoice(network)
    await stack.cloud.post_invoice(invoice, idempotency_key=new_key())
    erp.plan.clear()

    with pytest.raises(ConnectorRejected) as refused:
        await stack.cloud.post_invoice(invoice, idempotency_key=new_key())

    assert refused.value.code is ConnectorCode.ERP_REJECTED
    assert "409" in str(refused.value)
    assert erp.plan.calls[POST] == 1


async def test_5xx_then_success_posts_once(stack, erp, network):
    erp.plan.add(Fault(FaultKind.ERROR, operation=POST, status=502, times=2))
    invoice = fresh_invoice(network)

    await stack.cloud.post_invoice(invoice, idempotency_key=new_key())

    assert erp.plan.calls[POST] == 3
    assert erp.plan.calls[FIND] == 2
    assert len(erp.book.postings_of(invoice.id)) == 1


async def test_a_lost_response_is_looked_up_not_posted_again(stack, erp, network):
    erp.plan.add(Fault(FaultKind.LOST_RESPONSE, operation=POST, seconds=HANG))
    invoice = fresh_invoice(network)

    document = await stack.cloud.post_invoice(invoice, idempotency_key=new_key())

    assert erp.plan.calls[POST] == 1
    assert [d.number for d in erp.book.postings_of(invoice.id)] == [int(document.document_number)]


async def test_a_lost_response_with_every_lookup_failing_stays_unknown(stack, erp, network):
    erp.plan.add(Fault(FaultKind.LOST_RESPONSE, operation=POST, seconds=HANG))
    erp.plan.add(Fault(FaultKind.ERROR, operation=FIND, times=None))
    invoice, key = fresh_invoice(network), new_key()

    with pytest.raises(OutcomeUnknown):
        await stack.cloud.post_invoice(invoice, idempotency_key=key)

    # the lookups failed, so nothing was posted a second time, and the ledger remembers
    assert erp.plan.calls[POST] == 1
    assert len(erp.book.postings_of(invoice.id)) == 1
    assert await stack.ledger.state_of(ExternalSystem.CLOUD_ERP, key) is PostingState.SENT


async def test_an_answer_without_the_amount_is_a_mapping_error_naming_it(stack, erp, network):
    erp.plan.add(Fault(FaultKind.MALFORMED, operation=POST, field="InvoiceAmount"))

    with pytest.raises(ConnectorMappingError) as failed:
        await stack.cloud.post_invoice(fresh_invoice(network), idempotency_key=new_key())

    assert failed.value.field == "InvoiceAmount"
    assert erp.plan.calls[POST] == 1


async def test_a_body_that_is_not_json_is_a_mapping_error(stack, erp):
    erp.plan.add(Fault(FaultKind.MALFORMED, operation="GET /api/v2/suppliers"))

    with pytest.raises(ConnectorMappingError) as failed:
        await stack.cloud.vendors()

    assert failed.value.field == "(body)"


async def test_a_429_is_retried_after_retry_after(stack, erp):
    erp.plan.add(Fault(FaultKind.RATE_LIMIT, operation="GET /api/v2/suppliers", retry_after=3))

    await stack.cloud.vendors()

    assert stack.sleeps.waits == [3.0]


async def test_a_429_asking_for_longer_than_allowed_fails_at_once(stack, erp):
    erp.plan.add(Fault(FaultKind.RATE_LIMIT, operation="GET /api/v2/suppliers", retry_after=60))

    with pytest.raises(ConnectorError) as failed:
        await stack.cloud.vendors()

    assert failed.value.code is ConnectorCode.ERP_UNAVAILABLE
    assert erp.plan.calls["GET /api/v2/suppliers"] == 1
    assert stack.sleeps.waits == []


async def test_the_supplier_list_maps_status_to_blocked(stack, network):
    vendors = await stack.cloud.vendors()

    blocked = {v.tax_id for v in vendors if v.blocked}
    expected = {s.tax_id for s in network.suppliers if s.status.value == "BLOCKED"}
    assert blocked == expected


async def test_a_paid_document_reports_its_release(stack, erp, network):
    document = await stack.cloud.post_invoice(fresh_invoice(network), idempotency_key=new_key())
    assert await stack.cloud.payment_of(document) is None
    erp.book.pay(int(document.document_number), value_date=date(2026, 12, 4))

    release = await stack.cloud.payment_of(document)

    assert release is not None
    assert (release.invoice_id, release.amount) == (document.invoice_id, document.total)
