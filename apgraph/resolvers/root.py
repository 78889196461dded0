"""The root types: every entry point of the API, each delegating to one resolver function."""

import strawberry

from apgraph.resolvers import audit as audit_reads
from apgraph.resolvers import configuration as configuration_reads
from apgraph.resolvers import connectors as connector_reads
from apgraph.resolvers import dead_letters as dead_letter_resolvers
from apgraph.resolvers import events as event_reads
from apgraph.resolvers import exceptions as exception_reads
from apgraph.resolvers import facilities as facility_reads
from apgraph.resolvers import invoices as invoice_reads
from apgraph.resolvers import master_data, payment_mutations
from apgraph.resolvers import mutations as mutation_resolvers
from apgraph.resolvers import nodes as node_reads
from apgraph.resolvers import payments as payment_reads
from apgraph.resolvers import purchasing as purchasing_reads
from apgraph.resolvers import subscriptions as live
from apgraph.resolvers import suppliers as supplier_reads
from apgraph.resolvers import usage as usage_reads
from apgraph.resolvers import webhooks as webhook_resolvers
from apgraph.schema.batched import RootField, root


@strawberry.type(description="Every read of the API. Lists are Relay connections.")
class Query:
    node = strawberry.field(resolver=node_reads.node, description="Any object by its canonical ID.")
    viewer = strawberry.field(resolver=node_reads.viewer, description="Who the server sees.")

    facility = strawberry.field(
        resolver=facility_reads.facility,
        description="A facility by ID; null if unknown or not yours.",
    )
    facilities = strawberry.field(
        resolver=facility_reads.facilities, description="The facilities the caller may see."
    )
    cost_center = strawberry.field(
        resolver=facility_reads.cost_center, description="A cost center by ID; null if unknown."
    )
    validate_cost_center = strawberry.field(
        resolver=facility_reads.validate_cost_center,
        description="Is this GL code an active cost center of the facility? If not, every reason.",
    )

    supplier = strawberry.field(
        resolver=supplier_reads.supplier,
        metadata=root(RootField(supplier_reads.supplier_by_id)),
        description="A supplier by ID; null if unknown or not yours (a supplier sees only itself).",
    )
    suppliers = strawberry.field(
        resolver=supplier_reads.suppliers,
        metadata=root(RootField(supplier_reads.supplier_page)),
        description="The supplier master, by ID.",
    )

    purchase_order = strawberry.field(
        resolver=purchasing_reads.purchase_order,
        metadata=root(RootField(purchasing_reads.purchase_order_by_id)),
        description="A PO by ID; null if unknown or not yours.",
    )
    purchase_orders = strawberry.field(
        resolver=purchasing_reads.purchase_orders,
        metadata=root(RootField(purchasing_reads.purchase_order_page)),
        description="Purchase orders the caller may see.",
    )
    validate_purchase_order = strawberry.field(
        resolver=purchasing_reads.validate_purchase_order,
        description="May this supplier bill this PO at this facility? If not, every reason.",
    )

    invoice = strawberry.field(
        resolver=invoice_reads.invoice,
        description="An invoice by ID; null if unknown or not yours.",
        metadata=root(RootField(invoice_reads.invoice_by_id)),
    )
    invoices = strawberry.field(
        resolver=invoice_reads.invoices,
        description="Invoices the caller may see, by ID.",
        metadata=root(RootField(invoice_reads.invoice_page, invoice_reads.invoice_page_json)),
    )

    payment = strawberry.field(
        resolver=payment_reads.payment, description="A payment by ID; null if unknown or not yours."
    )
    payments = strawberry.field(
        resolver=payment_reads.payments, description="Payments the caller may see, by ID."
    )
    payment_run = strawberry.field(
        resolver=payment_reads.payment_run,
        description="A payment run of a facility you may see; null if unknown or not yours.",
    )
    payment_runs = strawberry.field(
        resolver=payment_reads.payment_runs,
        description="Payment runs of the facilities you may see, by ID.",
    )
    payment_forecast = strawberry.field(
        resolver=payment_reads.payment_forecast,
        description=(
            "When a supplier will be paid what: its payments not paid yet, per pay date and "
            "currency, soonest first. A supplier sees only its own (another's answers empty)."
        ),
    )

    invoice_events = strawberry.field(
        resolver=event_reads.invoice_events,
        description="One invoice's events, oldest first; null if unknown or not yours.",
    )
    events = strawberry.field(
        resolver=event_reads.events,
        description="Your events from the outbox, oldest first; cursors work with subscriptions.",
    )
    exception_queue = strawberry.field(
        resolver=exception_reads.exception_queue,
        description="Invoices in EXCEPTION waiting for an approver, oldest ID first.",
    )
    invoice_aging = strawberry.field(
        resolver=exception_reads.invoice_aging,
        description="Open exceptions by days since received, per currency.",
    )
    exception_reason_counts = strawberry.field(
        resolver=exception_reads.exception_reason_counts,
        description="Open exceptions per facility and reason code.",
    )

    audit_log = strawberry.field(
        resolver=audit_reads.audit_log, description="The audit trail, newest first (auditors)."
    )

    dead_letters = strawberry.field(
        resolver=dead_letter_resolvers.dead_letter_list,
        description=(
            "Postings, payment releases, webhook deliveries and relayed events that failed past "
            "every retry, oldest first (operators: admin scope)."
        ),
    )
    connectors = strawberry.field(
        resolver=connector_reads.connectors,
        description="Each external system: reachable now, breaker state, counters (operators).",
    )
    product_usage = strawberry.field(
        resolver=usage_reads.product_usage,
        description="API product usage per product version, client and operation, most "
        "requests first: who still calls a deprecated version (operators).",
    )
    migration_differences = strawberry.field(
        resolver=connector_reads.migration_differences,
        description="What the cloud ERP's shadow postings booked otherwise, newest first.",
    )
    webhooks = strawberry.field(
        resolver=webhook_resolvers.webhooks,
        description="Your webhooks (partner clients), oldest first; never another client's.",
    )
    configuration = strawberry.field(
        resolver=configuration_reads.configuration,
        description="The configuration this server runs with, secrets redacted (operators).",
    )


@strawberry.type(
    description="Every command. Business refusals come back as userErrors in the payload."
)
class Mutation:
    submit_invoice = strawberry.mutation(
        resolver=mutation_resolvers.submit_invoice,
        description="Validates, stores and matches an invoice; posts it or routes it to approvers.",
    )
    approve_invoice = strawberry.mutation(
        resolver=mutation_resolvers.approve_invoice,
        description="One approval of an exception; the last one needed posts the invoice.",
    )
    reject_invoice = strawberry.mutation(
        resolver=mutation_resolvers.reject_invoice,
        description="Rejects an exception for good; the reason goes to the supplier.",
    )
    hold_invoice = strawberry.mutation(
        resolver=mutation_resolvers.hold_invoice,
        description="Puts an exception on hold while something is sorted out.",
    )
    release_invoice = strawberry.mutation(
        resolver=mutation_resolvers.release_invoice,
        description="Puts an invoice on hold back in the approvers' queue.",
    )
    reassign_exception = strawberry.mutation(
        resolver=mutation_resolvers.reassign_exception,
        description="Moves an exception to another allowed approver's queue; decides nothing.",
    )
    retry_posting = strawberry.mutation(
        resolver=mutation_resolvers.retry_posting,
        description="Posts again an invoice whose posting failed; never books twice.",
    )
    replay_dead_letter = strawberry.mutation(
        resolver=dead_letter_resolvers.replay_dead_letter,
        description=(
            "Carries a dead letter's work through again (posts, orders, delivers or publishes it "
            "under its one key): never twice; a resolved letter answers its first outcome "
            "(operators: admin scope)."
        ),
    )
    reset_connector_breakers = strawberry.mutation(
        resolver=connector_reads.reset_connector_breakers,
        description="Closes external systems' circuit breakers now, once they are back, instead "
        "of waiting the cooldown (operators: admin scope).",
    )
    schedule_payment_run = strawberry.mutation(
        resolver=payment_mutations.schedule_payment_run,
        description=(
            "Proposes a payment run: the facility's scheduled payments due by the pay date and "
            "free of holds (posted invoices are scheduled first). Someone else approves it."
        ),
    )
    approve_payment_run = strawberry.mutation(
        resolver=payment_mutations.approve_payment_run,
        description="One approval of a run; never its proposer's. Above the policy total, two.",
    )
    release_payment_run = strawberry.mutation(
        resolver=payment_mutations.release_payment_run,
        description=(
            "Releases an approved run to the facility's ERP; never by its proposer. Released "
            "twice, paid once."
        ),
    )
    cancel_payment_run = strawberry.mutation(
        resolver=payment_mutations.cancel_payment_run,
        description="Cancels a run before release; its payments wait for the next run.",
    )
    confirm_payment = strawberry.mutation(
        resolver=payment_mutations.confirm_payment,
        description=(
            "Asks the ERP now whether a released payment was paid and records the answer: "
            "PAID with its remittance advice, or a payment exception. Counted once."
        ),
    )
    retry_payment_release = strawberry.mutation(
        resolver=payment_mutations.retry_payment_release,
        description="Orders again a payment the ERP could not take (RELEASE_FAILED); pays once.",
    )
    hold_payment = strawberry.mutation(
        resolver=payment_mutations.hold_payment,
        description="Keeps a scheduled payment out of payment runs, with a reason.",
    )
    release_payment_hold = strawberry.mutation(
        resolver=payment_mutations.release_payment_hold,
        description=(
            "Lifts a payment's hold after review (a bank-account change included): it may go "
            "into the next run."
        ),
    )
    import_master_data = strawberry.mutation(
        resolver=master_data.import_master_data,
        description=(
            "Checks an uploaded master-data bundle (docs/master-data.md: bundle.json, or the "
            "CSV files zipped) and, unless dryRun or any problem, upserts it in one "
            "transaction. Problems come back in the report, each with file, row and code."
        ),
    )
    register_webhook = strawberry.mutation(
        resolver=webhook_resolvers.register_webhook,
        description=(
            "Registers a URL of your system (partner clients) to receive events, each POSTed "
            "and signed with the secret this answer shows once (Standard Webhooks headers)."
        ),
    )
    remove_webhook = strawberry.mutation(
        resolver=webhook_resolvers.remove_webhook,
        description="Removes one of your webhooks; nothing more is delivered to it.",
    )


@strawberry.type(
    description="Live status over graphql-transport-ws; every event is authorized as it is sent."
)
class Subscription:
    invoice_status_changed = strawberry.subscription(
        resolver=live.invoice_status_changed,
        description=(
            "Every status change of the invoices you may see, as it commits (holds, releases, "
            "approvals and escalations included). Pass `after` to first receive what you missed."
        ),
    )
    payment_status_changed = strawberry.subscription(
        resolver=live.payment_status_changed,
        description="Payments of the invoices you may see: scheduled, released, remitted.",
    )
    exception_queue_changed = strawberry.subscription(
        resolver=live.exception_queue_changed,
        description="Invoices entering and leaving one of your facilities' exception queue.",
    )
