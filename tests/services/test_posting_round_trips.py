"""What posting a clean submission asks the database, on both databases: only what the
decision turns on (issue 19: every round trip is CPU on the server and time under a lock)."""

import re
import uuid

from sqlalchemy import text

from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.principal import Role
from apgraph.domain.problems import Outcome
from apgraph.services import submission
from tests.databases import pool_checkouts
from tests.services.statements import Sent, statements_sent, touching
from tests.services.workflow_support import CLOCK, ON_POSTGRESQL, person, reads, workflow


async def test_what_a_submission_names_is_read_through_one_pooled_connection(workflow_api, orders):
    # given a clean invoice of a PO, and its supplier's reads
    order = await orders.take("full")
    supplier = person(
        f"portal.{order.supplier.id.lower()}", Role.SUPPLIER, supplier_id=order.supplier.id
    )
    store = reads(workflow_api.runtime, supplier)

    # when the submission reads what the invoice names: its PO and the PO's lines, the
    # supplier, the facility and the cost center
    with pool_checkouts(workflow_api.runtime.engine) as taken:
        async with store.sharing_one_connection():
            stored = await submission._stored_facts(store, order.clean_invoice())

    # then each is found, and the five reads took one connection from the pool
    assert stored.order is not None
    assert stored.order_lines
    assert stored.supplier is not None
    assert stored.facility_known
    assert stored.cost_center is not None
    assert len(taken) == 1


async def submitted_with_statements(workflow_api, orders) -> tuple[Outcome[Invoice], Sent]:
    """A clean invoice of a fully received PO, submitted by its supplier (it matches and goes
    to the ERP at once), and every statement the submission sent."""
    order = await orders.take("full")
    supplier = person(
        f"portal.{order.supplier.id.lower()}", Role.SUPPLIER, supplier_id=order.supplier.id
    )
    runtime = workflow_api.runtime
    with statements_sent(runtime.engine) as sent:
        outcome = await submission.submit_invoice(
            submission.SubmitInvoice(order.clean_invoice(), f"key-{uuid.uuid4()}"),
            principal=supplier,
            workflow=workflow(runtime),
            reads=reads(runtime, supplier),
            clock=CLOCK,
        )
    return outcome, sent


async def test_posting_a_matched_invoice_reads_no_approvals(workflow_api, orders):
    # given a clean invoice of a fully received PO, which matches and goes to the ERP at once
    # when it is submitted
    outcome, sent = await submitted_with_statements(workflow_api, orders)

    # then it is posted without a look at approvals: a MATCHED invoice needs none
    assert outcome.value is not None
    assert outcome.value.status is InvoiceStatus.POSTED
    assert touching(sent, "invoice_approvals") == []


@ON_POSTGRESQL  # SQLite keeps multi-row VALUES (a local file: no round trip to save)
async def test_every_statement_of_a_submission_on_postgresql_is_compiled_once(workflow_api, orders):
    """SQLAlchemy compiles a statement without a cache key anew on every execution (a
    multi-row VALUES, a `values()` construct): for the invoice and its lines, the outbox, the
    audit trail and the idempotency keys that was about a quarter of a submission's CPU."""
    # given a clean invoice of a fully received PO, which is stored, then posted
    # when it is submitted
    outcome, sent = await submitted_with_statements(workflow_api, orders)

    # then every statement it sent has a cache key: compiled once per process
    assert outcome.value is not None
    assert outcome.value.status is InvoiceStatus.POSTED
    assert sent.compiled_each_time == []


async def test_recording_a_posting_counts_the_history_instead_of_reading_it(workflow_api, orders):
    # given a clean invoice of a fully received PO, stored with its first status changes
    # when it is submitted, matches and is posted
    outcome, sent = await submitted_with_statements(workflow_api, orders)

    # then recording POSTED asked for the history's length, never for its rows: on
    # PostgreSQL inside the statement that saves it with its new status change, on SQLite
    # in one read before it
    assert outcome.value is not None
    assert outcome.value.status is InvoiceStatus.POSTED
    reads_of_history = [
        statement
        for statement in touching(sent, "invoice_status_changes")
        if statement.lstrip().upper().startswith("SELECT")
    ]
    if workflow_api.backend == "postgresql":
        assert reads_of_history == []
        (saved,) = [s for s in sent if re.search(r"\bUPDATE invoices\b", s)]
        assert "max(invoice_status_changes.sequence)" in saved
    else:
        assert len(reads_of_history) == 1
        assert "max(" in reads_of_history[0].lower()
    # and the history numbers on without a gap from where the submission left it
    async with workflow_api.runtime.engine.connect() as connection:
        sequences = (
            (
                await connection.execute(
                    text(
                        "SELECT sequence FROM invoice_status_changes"
                        " WHERE invoice_id = :invoice_id ORDER BY sequence"
                    ),
                    {"invoice_id": outcome.value.id},
                )
            )
            .scalars()
            .all()
        )
    assert sequences == list(range(1, len(sequences) + 1))
    assert len(sequences) >= 3  # RECEIVED … MATCHED, then POSTED


@ON_POSTGRESQL  # SQLite runs the two statements (a local file: no round trip to save)
async def test_on_postgresql_recording_a_posting_saves_the_invoice_with_its_history(
    workflow_api, orders
):
    """The invoice's new status and the status change that records it go in one statement:
    one round trip less in every submission's second unit of work, under the invoice's lock."""
    # given a clean invoice of a fully received PO, which matches and goes to the ERP at once
    # when it is submitted and posted
    outcome, sent = await submitted_with_statements(workflow_api, orders)

    # then the update of the invoice to POSTED is the statement that adds its status change
    assert outcome.value is not None
    assert outcome.value.status is InvoiceStatus.POSTED
    updates = [s for s in touching(sent, "invoices") if re.search(r"\bUPDATE invoices\b", s)]
    assert len(updates) == 1
    assert "INSERT INTO invoice_status_changes" in updates[0]


@ON_POSTGRESQL  # SQLite runs a statement per table (a local file: no round trip to save)
async def test_on_postgresql_a_submission_stores_its_invoice_lines_and_history_at_once(
    workflow_api, orders
):
    """The new invoice, its lines and the statuses it went through go in one statement: the
    invoice-number counter's row, locked until the first unit of work commits, is held one
    round trip less by every submission."""
    # given a clean invoice of a fully received PO
    # when it is submitted, stored and posted
    outcome, sent = await submitted_with_statements(workflow_api, orders)

    # then one statement inserted the invoice, its lines and its first status changes, and
    # the only other one that adds to its history is the update to POSTED
    assert outcome.value is not None
    assert outcome.value.status is InvoiceStatus.POSTED
    (added,) = [s for s in sent if re.search(r"\bINSERT INTO invoices\b", s)]
    assert "INSERT INTO invoice_lines" in added
    assert "INSERT INTO invoice_status_changes" in added
    history = [s for s in sent if "INSERT INTO invoice_status_changes" in s]
    assert history == [added, *[s for s in history if re.search(r"\bUPDATE invoices\b", s)]]
    assert len(history) == 2


@ON_POSTGRESQL  # SQLite keeps SQLAlchemy's path (a local file, no driver of this kind)
async def test_on_postgresql_a_submissions_units_of_work_send_their_statements_on_the_driver(
    workflow_api, orders
):
    """SQLAlchemy's per-execution work was ~50 µs of CPU of each statement: what the two units
    of work lock, read and write goes on the asyncpg connection, in their transactions (but
    the first statement of each, through which SQLAlchemy begins the transaction), and so do
    the ERP posting's vendor link and its ledger marks, each on its own."""
    # given a clean invoice of a fully received PO
    # when it is submitted, stored and posted
    outcome, sent = await submitted_with_statements(workflow_api, orders)

    # then of what SQLAlchemy executed, only each unit of work's first statement (through
    # which SQLAlchemy begins its transaction) locks a row or touches what the units of work
    # or the ERP posting write or read: the rest went on the driver
    assert outcome.value is not None
    assert outcome.value.status is InvoiceStatus.POSTED
    written = ("invoices", "invoice_status_changes", "idempotency_keys", "counters", "outbox")
    posting = ("erp_cross_references", "erp_postings")
    beginning = [
        statement
        for statement in sent.through_sqlalchemy
        if " FOR " in statement
        or any(touching([statement], t) for t in (*written, "audit_head", "audit_log", *posting))
    ]
    assert len(beginning) <= 2, beginning  # two units of work
    assert len(sent.through_sqlalchemy) < len(sent) / 2
