"""The legacy ERP adapter against its simulator over real HTTP (SOAP/XML) on loopback."""

from dataclasses import replace
from datetime import date
from xml.etree import ElementTree

import httpx
import pytest

from apgraph.connectors.legacy_erp import mapping
from apgraph.connectors.legacy_erp.client import operation_of
from apgraph.connectors.resilience import OutcomeUnknown
from apgraph.domain.codes import ConnectorCode
from apgraph.domain.suppliers import SupplierStatus
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import (
    BreakerState,
    ConnectorError,
    ConnectorMappingError,
    ConnectorRejected,
    PostingState,
)
from apgraph.simulators.faults import Fault, FaultKind
from tests.connectors.support import HANG, fresh_invoice, new_key

POST = "PostVendorInvoice"
FIND = "FindPostingByToken"


@pytest.fixture
def erp(served):
    return served.simulators.legacy_erp


async def test_a_posting_returns_the_document_the_erp_booked(stack, erp, network):
    # given a new invoice at a legacy facility
    invoice = fresh_invoice(network)
    key = new_key()

    # when it is posted
    document = await stack.legacy.post_invoice(invoice, idempotency_key=key)

    # then the ERP booked it once, with our references and amounts, as a LEG- document
    assert document.system is ExternalSystem.LEGACY_ERP
    assert document.reference == f"LEG-{document.document_number}"
    assert (document.invoice_id, document.total, document.tax) == (
        invoice.id,
        invoice.total,
        invoice.tax,
    )
    assert [d.number for d in erp.book.postings_of(invoice.id)] == [int(document.document_number)]
    assert await stack.ledger.state_of(ExternalSystem.LEGACY_ERP, key) is PostingState.POSTED


async def test_a_repeated_key_returns_the_first_document_and_posts_nothing(stack, erp, network):
    invoice, key = fresh_invoice(network), new_key()
    first = await stack.legacy.post_invoice(invoice, idempotency_key=key)

    again = await stack.legacy.post_invoice(invoice, idempotency_key=key)

    assert again == first
    assert len(erp.book.postings_of(invoice.id)) == 1


async def test_failures_then_success_are_retried_each_after_a_lookup(stack, erp, network):
    # given the ERP fails the next two postings with a 503
    erp.plan.add(Fault(FaultKind.ERROR, operation=POST, times=2))
    invoice = fresh_invoice(network)

    # when the invoice is posted
    document = await stack.legacy.post_invoice(invoice, idempotency_key=new_key())

    # then the third attempt posted it; each retry first asked whether the last one got through
    assert erp.plan.calls[POST] == 3
    assert erp.plan.calls[FIND] == 2
    assert [d.number for d in erp.book.postings_of(invoice.id)] == [int(document.document_number)]
    assert len(stack.sleeps.waits) == 2  # back-off before each retry


async def test_a_lost_response_is_looked_up_not_posted_again(stack, erp, network):
    # given the ERP books the next posting but its answer never arrives
    erp.plan.add(Fault(FaultKind.LOST_RESPONSE, operation=POST, seconds=HANG))
    invoice = fresh_invoice(network)

    # when the invoice is posted
    document = await stack.legacy.post_invoice(invoice, idempotency_key=new_key())

    # then the timed-out attempt was followed by a lookup that found the document: one posting
    assert erp.plan.calls[POST] == 1
    assert erp.plan.calls[FIND] == 1
    assert [d.number for d in erp.book.postings_of(invoice.id)] == [int(document.document_number)]


async def test_a_posting_left_unknown_is_looked_up_first_by_the_next_call(stack, erp, network):
    # given a posting that got through, but every answer after it was lost too
    erp.plan.add(Fault(FaultKind.LOST_RESPONSE, operation=POST, seconds=HANG))
    erp.plan.add(Fault(FaultKind.TIMEOUT, operation=FIND, seconds=HANG, times=2))
    invoice, key = fresh_invoice(network), new_key()
    with pytest.raises(OutcomeUnknown) as failed:
        await stack.legacy.post_invoice(invoice, idempotency_key=key)
    assert failed.value.code is ConnectorCode.ERP_UNAVAILABLE
    assert await stack.ledger.state_of(ExternalSystem.LEGACY_ERP, key) is PostingState.SENT

    # when the workflow tries again later with the same key
    document = await stack.legacy.post_invoice(invoice, idempotency_key=key)

    # then it asked the ERP first, found the posting, and never posted a second time
    assert erp.plan.calls[POST] == 1
    assert erp.plan.calls[FIND] == 3
    assert [d.number for d in erp.book.postings_of(invoice.id)] == [int(document.document_number)]
    assert await stack.ledger.state_of(ExternalSystem.LEGACY_ERP, key) is PostingState.POSTED


async def test_a_soap_fault_is_a_rejection_and_never_retried(stack, erp, network):
    # given an invoice number the vendor already billed under another key
    invoice = fresh_invoice(network)
    await stack.legacy.post_invoice(invoice, idempotency_key=new_key())
    erp.plan.clear()
    key = new_key()

    # when it is posted again under a new key
    with pytest.raises(ConnectorRejected) as refused:
        await stack.legacy.post_invoice(invoice, idempotency_key=key)

    # then the ERP's SOAP fault is ERP_REJECTED after one call, and nothing was booked
    assert refused.value.code is ConnectorCode.ERP_REJECTED
    assert "DUPLICATE" in str(refused.value) or "already billed" in str(refused.value)
    assert erp.plan.calls[POST] == 1
    assert len(erp.book.postings_of(invoice.id)) == 1
    assert await stack.ledger.state_of(ExternalSystem.LEGACY_ERP, key) is PostingState.REJECTED


async def test_timeouts_on_every_attempt_give_erp_unavailable(stack, erp):
    erp.plan.add(Fault(FaultKind.TIMEOUT, operation="ListPayments", seconds=HANG, times=None))

    with pytest.raises(ConnectorError) as failed:
        await stack.legacy.payment_releases(since=date(2026, 1, 1))

    assert failed.value.code is ConnectorCode.ERP_UNAVAILABLE
    assert erp.plan.calls["ListPayments"] == 3  # the policy's attempts, and no more


async def test_added_latency_within_the_deadline_is_just_slower(stack, erp):
    erp.plan.add(Fault(FaultKind.LATENCY, operation="ListVendors", seconds=0.1))

    vendors = await stack.legacy.vendors()

    assert vendors
    assert erp.plan.calls["ListVendors"] == 1


@pytest.mark.parametrize("missing", ["GrossAmount", "DueDate", "ExtRef"])
async def test_an_answer_without_a_field_is_a_mapping_error_naming_it(stack, erp, network, missing):
    # given the ERP books the posting but answers without one field
    erp.plan.add(Fault(FaultKind.MALFORMED, operation=POST, field=missing))
    invoice, key = fresh_invoice(network), new_key()

    # when it is posted
    with pytest.raises(ConnectorMappingError) as failed:
        await stack.legacy.post_invoice(invoice, idempotency_key=key)

    # then nothing half-mapped comes back, the field is named, and it was not retried
    assert failed.value.code is ConnectorCode.CONNECTOR_MAPPING_ERROR
    assert failed.value.field == missing
    assert erp.plan.calls[POST] == 1
    # the ERP did book it, so the ledger keeps it for a lookup rather than a second posting
    assert await stack.ledger.state_of(ExternalSystem.LEGACY_ERP, key) is PostingState.SENT


async def test_an_answer_that_is_not_xml_is_a_mapping_error(stack, erp):
    erp.plan.add(Fault(FaultKind.MALFORMED, operation="ListVendors"))

    with pytest.raises(ConnectorMappingError) as failed:
        await stack.legacy.vendors()

    assert failed.value.field == "(body)"
    assert erp.plan.calls["ListVendors"] == 1


async def test_a_429_waits_as_long_as_retry_after_asks(stack, erp):
    erp.plan.add(Fault(FaultKind.RATE_LIMIT, operation="ListVendors", retry_after=2))

    await stack.legacy.vendors()

    assert erp.plan.calls["ListVendors"] == 2
    assert stack.sleeps.waits == [2.0]


async def test_the_breaker_opens_after_the_threshold_and_calls_then_fail_fast(stack, erp):
    # given the ERP answers every call with a 500 (not a SOAP fault)
    erp.plan.add(Fault(FaultKind.ERROR, operation="ListVendors", status=500, times=None))
    endpoint = stack.endpoints[ExternalSystem.LEGACY_ERP]

    # when calls keep failing past the breaker's threshold (5 consecutive failed attempts)
    for _ in range(3):
        with pytest.raises(ConnectorError):
            await stack.legacy.vendors()

    # then only 5 requests reached the ERP: the rest failed fast on the open breaker
    assert endpoint.breaker.state is BreakerState.OPEN
    assert erp.plan.calls["ListVendors"] == 5
    assert endpoint.stats().failures == 3


async def test_payments_of_seeded_documents_map_to_releases(stack, network):
    # given a document the seed posted and paid
    releases = await stack.legacy.payment_releases(since=date(2020, 1, 1))
    assert releases
    release = releases[0]
    paid = {i.id: i for i in network.invoices}[release.invoice_id]

    # then its release names our invoice and the ERP's document, and pays, as a Decimal, what
    # the seed allocated to it: the total less any early-payment discount taken
    (allocation,) = (a for a in network.payment_allocations if a.invoice_id == paid.id)
    assert paid.erp_document_ref == f"LEG-{release.document_number}"
    assert release.amount == allocation.amount == paid.total - allocation.discount
    assert [r.released_on for r in releases] == sorted(r.released_on for r in releases)


async def test_an_unpaid_document_has_no_payment(stack, network):
    document = await stack.legacy.post_invoice(fresh_invoice(network), idempotency_key=new_key())

    assert await stack.legacy.payment_of(document) is None


async def test_a_paid_document_reports_its_release(stack, erp, network):
    document = await stack.legacy.post_invoice(fresh_invoice(network), idempotency_key=new_key())
    erp.book.pay(int(document.document_number), value_date=date(2026, 12, 3))

    release = await stack.legacy.payment_of(document)

    assert release is not None
    assert (release.amount, release.released_on) == (document.total, date(2026, 12, 3))


async def test_a_supplier_without_a_vendor_link_is_refused_before_any_call(stack, erp, network):
    onboarding = next(s.id for s in network.suppliers if s.status is SupplierStatus.ONBOARDING)
    invoice = replace(fresh_invoice(network), supplier_id=onboarding)

    with pytest.raises(ConnectorRejected) as refused:
        await stack.legacy.post_invoice(invoice, idempotency_key=new_key())

    assert refused.value.code is ConnectorCode.ERP_SUPPLIER_NOT_LINKED
    assert erp.plan.calls[POST] == 0


async def test_every_operation_the_connector_sends_is_in_the_wsdl_the_erp_serves(served, network):
    # given the WSDL the simulator serves
    async with httpx.AsyncClient(base_url=served.url(ExternalSystem.LEGACY_ERP)) as client:
        wsdl = ElementTree.fromstring((await client.get("soap?wsdl")).content)
    declared = {
        op.get("name")
        for op in wsdl.iter("{http://schemas.xmlsoap.org/wsdl/}operation")
        if op.get("name")
    }

    # then every request the mapping builds is a declared operation of its target namespace
    requests = [
        mapping.post_request(fresh_invoice(network), vendor_no="V1", idempotency_key="k"),
        mapping.find_request("k"),
        mapping.payment_status_request("1"),
        mapping.payments_request(date(2026, 1, 1)),
        mapping.vendors_request(),
    ]
    assert wsdl.get("targetNamespace") == mapping.NS
    assert {operation_of(request) for request in requests} <= declared
