"""Every metric apgraph exports, its name, unit and labels, in one place (DESIGN §9).

Names follow Prometheus conventions (`_total` counters, base units in the name: `_seconds`,
`_ratio`) and OpenTelemetry's semantic conventions where one exists (`http.route` becomes
the `product`/`version` pair here). Two kinds:

- **Per process** (requests, latencies, errors, SQL statements): counted where they happen.
  With several workers, set PROMETHEUS_MULTIPROC_DIR (`apgraph serve --workers N` does) and
  every worker's samples are summed at the scrape.
- **Business figures** (invoices by status, exceptions by reason, cycle times, aging,
  liabilities, outbox lag, dead letters): read from the database at each scrape
  (`business_families`), so every worker and instance reports the same truth.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from prometheus_client import Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from apgraph.domain.aging import AgingBucket
from apgraph.services.ports.connectors import BreakerState, ConnectorStats
from apgraph.services.ports.figures import Figures

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STATEMENT_BUCKETS = (1, 2, 3, 5, 8, 13, 21, 34, 55, 89)
HOUR, DAY = 3600.0, 86400.0
CYCLE_BUCKETS = (60.0, 600.0, HOUR, 4 * HOUR, DAY, 2 * DAY, 5 * DAY, 10 * DAY, 30 * DAY)

REQUESTS = Counter(
    "apgraph_graphql_requests",
    "GraphQL operations executed, by API product, version, operation name and outcome.",
    ["product", "version", "operation", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "apgraph_graphql_request_duration_seconds",
    "Time to execute one GraphQL operation, from parse to the last field.",
    ["product", "version", "operation"],
    buckets=LATENCY_BUCKETS,
)
ERRORS = Counter(
    "apgraph_graphql_errors",
    "Errors answered in GraphQL responses, by their extensions.code.",
    ["product", "version", "code"],
)
SQL_STATEMENTS = Histogram(
    "apgraph_graphql_sql_statements",
    "SQL statements one GraphQL operation issued.",
    ["product", "version", "operation"],
    buckets=STATEMENT_BUCKETS,
)
WEBHOOK_ATTEMPTS = Counter(
    "apgraph_webhook_delivery_attempts",
    "Webhook deliveries attempted, by outcome: accepted (2xx), failed (to be retried), dead "
    "(the last attempt failed: a dead letter).",
    ["outcome"],
)

_OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_OPERATION_NAMES = 200  # distinct names kept as labels; the rest count as "other"


@dataclass
class OperationNames:
    """Bounds the `operation` label: a client cannot grow the metrics without limit."""

    seen: set[str] = field(default_factory=set)

    def label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if not _OPERATION_NAME.fullmatch(name):
            return "other"
        if name in self.seen or len(self.seen) < MAX_OPERATION_NAMES:
            self.seen.add(name)
            return name
        return "other"


def connector_families(stats: Sequence[ConnectorStats]) -> Iterator[Metric]:
    """This process's view of each external system (its breaker is this process's)."""
    calls = CounterMetricFamily(
        "apgraph_connector_calls", "Operations asked of an external system.", labels=["system"]
    )
    attempts = CounterMetricFamily(
        "apgraph_connector_attempts", "Requests sent, retries included.", labels=["system"]
    )
    failures = CounterMetricFamily(
        "apgraph_connector_failures",
        "Operations that failed after every retry.",
        labels=["system"],
    )
    breaker = GaugeMetricFamily(
        "apgraph_connector_breaker_state",
        "1 for the circuit breaker's current state, 0 for the others.",
        labels=["system", "state"],
    )
    for stat in stats:
        system = stat.system.value
        calls.add_metric([system], stat.calls)
        attempts.add_metric([system], stat.attempts)
        failures.add_metric([system], stat.failures)
        for state in BreakerState:
            breaker.add_metric([system, state.value], 1.0 if stat.breaker is state else 0.0)
    yield from (calls, attempts, failures, breaker)


def subscriptions_family(open_now: int) -> Metric:
    """Live subscriptions this process is feeding (each worker its own)."""
    return GaugeMetricFamily(
        "apgraph_subscriptions_open",
        "GraphQL subscriptions this process is feeding events to.",
        value=open_now,
    )


def business_families(figures: Figures) -> Iterator[Metric]:
    """The business process metrics of DESIGN §9, from one snapshot of the database."""
    invoices = GaugeMetricFamily(
        "apgraph_invoices",
        "Invoices by facility and current status.",
        labels=["facility", "status"],
    )
    for row in figures.current:
        invoices.add_metric([row.facility_id, row.status], row.count)
    yield invoices

    entered = CounterMetricFamily(
        "apgraph_invoice_transitions",
        "Invoices that entered a status (received, validated, rejected, matched, exception, "
        "posted, …), by facility: the throughput counters.",
        labels=["facility", "status"],
    )
    for row in figures.entered:
        entered.add_metric([row.facility_id, row.status], row.count)
    yield entered

    reasons = GaugeMetricFamily(
        "apgraph_invoice_exceptions_open",
        "Open exceptions by facility and reason code.",
        labels=["facility", "reason"],
    )
    for reason in figures.open_exceptions:
        reasons.add_metric([reason.facility_id, reason.code], reason.count)
    yield reasons

    yield GaugeMetricFamily(
        "apgraph_match_rate_ratio",
        "Share of matched invoices that matched cleanly the first time.",
        value=_ratio(figures.matched_first_time, figures.match_attempted),
    )
    yield GaugeMetricFamily(
        "apgraph_touchless_rate_ratio",
        "Share of posted invoices that no person had to touch (never in EXCEPTION).",
        value=_ratio(figures.posted - figures.touched_by_exception, figures.posted),
    )
    yield _histogram(
        "apgraph_approval_cycle_seconds",
        "From an invoice entering EXCEPTION to the decision that ended it.",
        figures.approval_cycle_seconds,
    )
    yield _histogram(
        "apgraph_payment_release_latency_seconds",
        "From a payment's release to the ERP to its confirmation as paid.",
        figures.release_to_paid_seconds,
    )
    yield _histogram(
        "apgraph_invoice_receipt_to_posting_seconds",
        "From an invoice's receipt to its posting in the ERP.",
        figures.receipt_to_posting_seconds,
    )
    aging = GaugeMetricFamily(
        "apgraph_invoice_aging_invoices",
        "Open exceptions by days since received (the dashboard's aging buckets).",
        labels=["bucket"],
    )
    counted = {bucket: 0 for bucket in AgingBucket}
    for days in figures.open_exception_ages_days:
        counted[AgingBucket.for_age(days)] += 1
    for bucket, count in counted.items():
        aging.add_metric([bucket.name], count)
    yield aging

    owed = GaugeMetricFamily(
        "apgraph_liabilities_open",
        "Posted invoices not yet paid: what the network owes, per currency (in that currency).",
        labels=["currency"],
    )
    for amount in figures.liabilities:
        owed.add_metric([amount.currency], float(amount.amount))
    yield owed
    yield GaugeMetricFamily(
        "apgraph_outbox_unpublished_events",
        "Committed events the relay has not delivered yet.",
        value=figures.outbox_unpublished,
    )
    yield GaugeMetricFamily(
        "apgraph_outbox_lag_seconds",
        "Age of the oldest undelivered event; 0 when the outbox is drained.",
        value=figures.outbox_oldest_unpublished_seconds,
    )
    letters = GaugeMetricFamily(
        "apgraph_dead_letters",
        "Dead letters waiting for a replay, per kind (POSTING, PAYMENT_RELEASE, "
        "WEBHOOK_DELIVERY, RELAY): `apgraph deadletters list`.",
        labels=["kind"],
    )
    for kind, count in figures.dead_letters.items():
        letters.add_metric([kind.value], count)
    yield letters


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _histogram(name: str, documentation: str, samples: Sequence[float]) -> HistogramMetricFamily:
    buckets = []
    for bound in CYCLE_BUCKETS:
        buckets.append((_bound(bound), sum(1 for s in samples if s <= bound)))
    buckets.append(("+Inf", len(samples)))
    return HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=sum(samples))


def _bound(value: float) -> str:
    return repr(float(value))
