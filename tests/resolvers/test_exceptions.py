"""exceptionQueue, invoiceAging, exceptionReasonCounts: the finance dashboard's queue."""

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.principal import Role

FINANCE = "finance-ops/v1"  # where approvers and clerks work
QUEUE = """
query Queue($facility: ID, $reason: MatchCode, $assignedTo: String) {
  exceptionQueue(facilityId: $facility, reason: $reason, assignedTo: $assignedTo, first: 100) {
    totalCount edges { node { id status exceptions { code } } }
  }
}
"""


def open_exceptions(network, **where):
    found = [i for i in network.invoices if i.status is InvoiceStatus.EXCEPTION]
    if "facility" in where:
        found = [i for i in found if i.facility_id == where["facility"]]
    return found


def codes_of(network, invoice_id):
    return {e.code for inv, e in network.invoice_exceptions if inv == invoice_id}


async def test_the_queue_of_a_facility_holds_its_open_exceptions(api, network):
    facility = open_exceptions(network)[0].facility_id
    expected = sorted(i.id for i in open_exceptions(network, facility=facility))
    data = await api.data(QUEUE, {"facility": facility})
    queue = data["exceptionQueue"]
    assert queue["totalCount"] == len(expected)
    assert [e["node"]["id"] for e in queue["edges"]] == expected[:100]
    assert {e["node"]["status"] for e in queue["edges"]} == {"EXCEPTION"}


async def test_the_queue_filters_by_reason(api, network):
    reason = "QTY_VARIANCE"
    expected = sorted(i.id for i in open_exceptions(network) if reason in codes_of(network, i.id))
    assert expected, "the demo network has quantity variances waiting"
    data = await api.data(QUEUE, {"reason": reason})
    assert [e["node"]["id"] for e in data["exceptionQueue"]["edges"]] == expected[:100]


async def test_an_approvers_queue_holds_the_cost_centers_they_approve_for(api, network):
    approver = "approver.fac-0001"
    centers = {c.id for c in network.cost_centers if approver in c.approvers}
    expected = sorted(i.id for i in open_exceptions(network) if i.cost_center_id in centers)
    data = await api.data(QUEUE, {"assignedTo": approver})
    assert data["exceptionQueue"]["totalCount"] == len(expected)


async def test_an_approver_sees_only_the_queue_of_their_facilities(api, network):
    token = api.token(Role.APPROVER, facility_ids=["FAC-0001"])
    data = await api.data(QUEUE, {}, token=token, product=FINANCE)
    expected = open_exceptions(network, facility="FAC-0001")
    assert data["exceptionQueue"]["totalCount"] == len(expected)
    other = await api.data(QUEUE, {"facility": "FAC-0002"}, token=token, product=FINANCE)
    assert other["exceptionQueue"]["totalCount"] == 0


async def test_aging_buckets_add_up_to_the_open_exceptions(api, network):
    data = await api.data(
        "{ invoiceAging { bucket firstDay lastDay count total { amount currency } } }"
    )
    buckets = data["invoiceAging"]
    assert [b["bucket"] for b in buckets][:2] == ["DAYS_0_2", "DAYS_3_7"]
    assert sum(b["count"] for b in buckets) == len(open_exceptions(network))
    assert sum(Decimal(b["total"]["amount"]) for b in buckets) == sum(
        i.total for i in open_exceptions(network)
    )


async def test_reason_counts_per_facility_match_the_open_exceptions(api, network):
    expected = Counter(
        (i.facility_id, code) for i in open_exceptions(network) for code in codes_of(network, i.id)
    )
    data = await api.data("{ exceptionReasonCounts { code count facility { id } } }")
    found = Counter(
        {(r["facility"]["id"], r["code"]): r["count"] for r in data["exceptionReasonCounts"]}
    )
    assert found == expected


async def test_a_caller_without_invoices_read_sees_no_dashboard(api):
    # given a clerk whose token was narrowed to payments:read
    token = api.issuer.issue(
        subject="clerk.narrow",
        now=datetime.now(UTC),
        claims={"roles": ["ap_clerk"], "scope": "payments:read"},
    ).access_token
    body = await api.graphql("{ invoiceAging { count } }", token=token, product=FINANCE)
    assert body["data"] == {"invoiceAging": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
