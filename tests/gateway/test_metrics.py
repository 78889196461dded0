"""/metrics: the business figures an operator scrapes are the API's own figures, and only
operators may scrape them."""

from prometheus_client.parser import text_string_to_metric_families

from apgraph.domain.principal import Role
from tests.resolvers.test_submit_invoice import submit, supplier_token

COUNT = """
query($f: ID, $s: [InvoiceStatus!]) {
  invoices(filter: {facilityId: $f, status: $s}) { totalCount }
}
"""


async def scrape(api, token=...) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await api.client.get("/metrics", headers=api.headers(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_the_invoice_gauges_are_what_the_api_counts(workflow_api, network):
    samples = await scrape(workflow_api)

    for facility in [f.id for f in network.facilities[:2]]:
        for status in ("POSTED", "EXCEPTION", "REJECTED"):
            counted = await workflow_api.data(COUNT, {"f": facility, "s": [status]})
            assert (
                value(samples, "apgraph_invoices", facility=facility, status=status)
                == (counted["invoices"]["totalCount"])
            )
    everything = (await workflow_api.data(COUNT, {}))["invoices"]["totalCount"]
    assert sum(v for (name, _), v in samples.items() if name == "apgraph_invoices") == everything
    assert 0 < value(samples, "apgraph_touchless_rate_ratio") < 1
    assert 0 < value(samples, "apgraph_match_rate_ratio") < 1


async def test_a_posted_invoice_moves_the_throughput_counters_and_the_request_metrics(
    workflow_api, orders
):
    # given the figures before, and a PO received in full
    order = await orders.take("full")
    facility = order.order.facility_id
    before = await scrape(workflow_api)

    # when its supplier bills what was received and it posts
    body = await submit(
        workflow_api, order.clean_invoice(), token=supplier_token(workflow_api, order)
    )
    assert body["data"]["submitInvoice"]["invoice"]["status"] == "POSTED"
    after = await scrape(workflow_api)

    # then one more invoice was received, validated, matched and posted at its facility
    for status in ("RECEIVED", "VALIDATED", "MATCHED", "POSTED"):
        name = "apgraph_invoice_transitions_total"
        assert value(after, name, facility=facility, status=status) == (
            value(before, name, facility=facility, status=status) + 1
        )
    # and the operation was counted with its name and outcome
    request = {
        "product": "supplier-portal",  # the supplier's product (/graphql is operators')
        "version": "v1",
        "operation": "Submit",
        "outcome": "success",
    }
    assert value(after, "apgraph_graphql_requests_total", **request) == (
        value(before, "apgraph_graphql_requests_total", **request) + 1
    )
    assert (
        value(
            after,
            "apgraph_graphql_request_duration_seconds_count",
            **{k: v for k, v in request.items() if k != "outcome"},
        )
        >= 1
    )
    assert value(after, "apgraph_connector_breaker_state", system="legacy_erp", state="CLOSED") == 1
    # with the SQL statements it issued, and the families every scrape carries
    timed = {k: v for k, v in request.items() if k != "outcome"}
    assert value(after, "apgraph_graphql_sql_statements_sum", **timed) > value(
        before, "apgraph_graphql_sql_statements_sum", **timed
    )
    assert ("apgraph_subscriptions_open", ()) in after
    assert ("apgraph_payment_release_latency_seconds_count", ()) in after


async def test_only_an_operator_may_scrape(workflow_api, network):
    supplier = workflow_api.token(Role.SUPPLIER, supplier_id=network.suppliers[0].id)
    approver = workflow_api.token(Role.APPROVER, facility_ids=[network.facilities[0].id])

    for token, status in (
        (None, 401),
        ("forged.token.value", 401),
        (supplier, 403),
        (approver, 403),
    ):
        response = await workflow_api.client.get("/metrics", headers=workflow_api.headers(token))
        assert response.status_code == status
        assert "apgraph_invoices" not in response.text


DEAD_LETTERS = """
query($kind: DeadLetterKind) {
  deadLetters(filter: {kind: $kind, resolved: false}) { totalCount }
}
"""


async def test_the_dead_letter_gauge_counts_the_store_per_kind(workflow_api):
    samples = await scrape(workflow_api)

    for kind in ("POSTING", "PAYMENT_RELEASE", "WEBHOOK_DELIVERY", "RELAY"):
        counted = await workflow_api.data(DEAD_LETTERS, {"kind": kind})
        # every kind is reported, zero included, as the store counts it
        reported = samples[("apgraph_dead_letters", (("kind", kind),))]
        assert reported == counted["deadLetters"]["totalCount"]
