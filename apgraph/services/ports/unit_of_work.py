"""The write side: one unit of work per use case (STYLE §3.4), its writers, the outbox and
idempotency keys.
"""

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol

from apgraph.domain.approvals import Assignment
from apgraph.domain.audit import AuditEvent
from apgraph.domain.events import Event
from apgraph.domain.ids import (
    FacilityId,
    InvoiceId,
    PaymentId,
    PaymentRunId,
    PurchaseOrderId,
    SupplierId,
)
from apgraph.domain.invoice_numbers import NumberKey
from apgraph.domain.invoices import (
    Approval,
    Invoice,
    InvoiceException,
    InvoiceLine,
    StatusChange,
)
from apgraph.domain.matching.match import BilledInvoice
from apgraph.domain.payment_runs import PaymentRun
from apgraph.domain.payments import Payment, PaymentAllocation, PaymentStatus
from apgraph.domain.remittance import RemittanceDocument
from apgraph.domain.suppliers import Supplier
from apgraph.domain.validation import PostingFacts
from apgraph.services.ports.dead_letters import DeadLetterWriter


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """An event in its DESIGN §5 envelope, as the outbox stores it and a relay publishes it.

    `sequence` is global and gap-free in commit order, so a subscriber resumes after the last
    one it saw. `payload` is canonical JSON (amounts as strings) with its schema `version`.
    """

    id: str  # a UUID: consumers dedupe by it
    type: str  # e.g. "invoice.posted"
    sequence: int
    occurred_at: datetime
    invoice_id: InvoiceId
    supplier_id: SupplierId
    facility_id: FacilityId
    trace_id: str | None
    payload: Mapping[str, object]
    published_at: datetime | None  # None until a relay marks it published


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The first request made under (scope, key): what it asked for and what it produced."""

    scope: str  # whose key it is: a principal's subject or a client id
    key: str
    fingerprint: str  # of the request; a reused key with another fingerprint is refused
    result_ref: str  # what the first request produced, e.g. an invoice ID
    created_at: datetime


class InvoiceWriter(Protocol):
    """Invoices as a unit of work changes them; every call joins its transaction."""

    async def next_id(self) -> InvoiceId:
        """The next free invoice ID. The counter stays locked until the unit of work ends, so
        IDs are consecutive and never collide; a rolled-back unit of work gives its ID back."""
        ...

    async def next_id_keyed(
        self,
        scope: str,
        key: str,
        *,
        fingerprint: str,
        at: datetime,
        along: Callable[[InvoiceId], Sequence[IdempotencyRecord]] = lambda _: (),
    ) -> tuple[InvoiceId, IdempotencyRecord]:
        """`next_id`, and the idempotency key (scope, key) offered with the new ID as its
        result, as `IdempotencyKeys.put` offers it (with `along(the ID)`, whose records hold
        the ID in their keys only): one round trip where the store can, so the counter is
        held one round trip less. Answers the ID and the record on file: the caller's own
        when its `result_ref` is the ID, else another request's (then roll back)."""
        ...

    async def add(
        self,
        invoice: Invoice,
        lines: Sequence[InvoiceLine],
        *,
        number: NumberKey,
        history: Sequence[StatusChange] = (),
    ) -> None:
        """Stores a new invoice with its lines and the status changes it went through so far
        (one statement where the database allows); `number` is its number's key under the
        duplicate rules the service checks with (`NumberRules.keyed`), kept for
        `duplicate_candidates`."""
        ...

    async def get_for_update(self, invoice_id: InvoiceId) -> Invoice | None:
        """None when there is no such invoice. On PostgreSQL the row stays locked until the
        unit of work ends, so a concurrent change waits instead of being overwritten."""
        ...

    async def save(self, invoice: Invoice) -> None:
        """Writes the invoice's current fields over the stored row, which must exist."""
        ...

    async def get_many_for_update(self, invoice_ids: Collection[InvoiceId]) -> Sequence[Invoice]:
        """`get_for_update` for many in one statement, by ID; missing ones are left out."""
        ...

    async def save_many(self, invoices: Sequence[Invoice]) -> None:
        """`save` for many in one statement."""
        ...

    async def history_lengths(self, invoice_ids: Collection[InvoiceId]) -> dict[InvoiceId, int]:
        """How many status changes each invoice has (0 for none), as this transaction sees."""
        ...

    async def history_length(self, invoice_id: InvoiceId) -> int:
        """How many status changes the invoice has, as this transaction sees: where the next
        one's sequence goes on. Read after the invoice's row lock, so no other writer adds one
        before this transaction ends."""
        ...

    async def add_history(self, changes: Sequence[StatusChange]) -> None: ...
    async def save_with_history(
        self, invoice: Invoice, changes: Sequence[StatusChange], *, numbered_on: bool = False
    ) -> None:
        """`save` and `add_history` together (one statement where the database allows).
        `numbered_on`: the changes' sequences count from 1 after the stored history's last,
        read with them (in the same statement where the database allows); the caller holds
        the invoice's row lock, so no other writer adds one meanwhile."""
        ...

    async def add_approval(self, approval: Approval) -> None: ...
    async def add_assignment(self, assignment: Assignment) -> None:
        """Puts the exception in `assignment.assignee`'s queue (the latest one counts)."""
        ...

    async def history(self, invoice_id: InvoiceId) -> Sequence[StatusChange]:
        """The invoice's status changes, oldest first, as this transaction sees them."""
        ...

    async def approvals(self, invoice_id: InvoiceId) -> Sequence[Approval]:
        """The invoice's decisions, oldest first, as this transaction sees them."""
        ...

    async def replace_exceptions(
        self, invoice_id: InvoiceId, exceptions: Sequence[InvoiceException]
    ) -> None:
        """The invoice's reasons become exactly `exceptions` (empty clears them)."""
        ...

    async def duplicate_candidates(
        self,
        supplier_id: SupplierId,
        *,
        number: NumberKey,
        currency: str,
        total: Decimal,
        excluding: InvoiceId | None = None,
    ) -> Sequence[Invoice]:
        """The supplier's stored invoices (but `excluding`) that the duplicate rules could
        hold against an invoice with this number key, currency and total, oldest first:
        `ValidationFacts.invoices_on_file`, `review_invoice(on_file=…)`.

        A superset of those the rules flag, so they decide as over every invoice on file:
        each one with the same currency and total (in or out of the window), each one whose
        number has the same key under `number.rules`, and each one whose key was made under
        other rules or not yet (store/number_keys.py). Rejected ones included (the rules skip
        them). On PostgreSQL the supplier's row stays locked until the unit of work ends, so
        two submissions of one supplier are checked for duplicates one after the other,
        never side by side.
        """
        ...

    async def posting_facts(self, invoice: Invoice) -> PostingFacts:
        """The invoice's supplier, PO and cost center as they stand now, for the unit of work
        that decides to post it (`recheck_before_posting`). On PostgreSQL their rows stay
        share-locked until the unit of work ends, so a concurrent change to them (blocking
        the supplier, closing the PO) is either seen by the decision or waits for it."""
        ...

    async def billed_per_po_line(
        self,
        purchase_order_id: PurchaseOrderId,
        *,
        lines: Collection[int],
        excluding: InvoiceId | None = None,
    ) -> Sequence[BilledInvoice]:
        """Every stored invoice on the PO but `excluding`, with its lines: `billed_before`.

        `match_invoice` itself keeps those that count. On PostgreSQL the rows of the PO's
        `lines` (the ones the invoice bills) stay locked until the unit of work ends, so the
        cumulative quantity of one PO line is computed by one unit of work at a time, while
        invoices billing other lines, of this PO or another, go ahead side by side.
        """
        ...


class OutboxWriter(Protocol):
    async def add(self, events: Sequence[Event]) -> None:
        """Queued for the outbox; written with their sequences when the unit of work commits."""
        ...


class PaymentWriter(Protocol):
    """Payments, runs and remittance documents as a unit of work changes them; row locks
    taken here last until it ends."""

    async def next_id(self) -> PaymentId: ...
    async def next_run_id(self) -> PaymentRunId: ...

    async def payees_for_update(
        self, supplier_ids: Collection[SupplierId]
    ) -> Mapping[SupplierId, tuple[Supplier, datetime | None]]:
        """Each supplier and when its remit-to account last changed, the rows locked (in ID
        order, so two sweeps lock them alike and never deadlock)."""
        ...

    async def payees(
        self, supplier_ids: Sequence[str]
    ) -> Mapping[SupplierId, tuple[Supplier, datetime | None]]: ...

    async def open_payments(self, supplier_ids: Collection[SupplierId]) -> Sequence[Payment]:
        """The suppliers' scheduled payments in no run and on no hold, locked, by ID: the
        open payment of a group (supplier, facility, pay date, currency, method) is its
        first one."""
        ...

    async def add(self, payments: Sequence[Payment]) -> None: ...
    async def add_allocations(self, allocations: Sequence[PaymentAllocation]) -> None: ...
    async def save(self, payments: Sequence[Payment]) -> None: ...
    async def get_for_update(self, payment_id: PaymentId) -> Payment | None: ...

    async def due_for_update(self, facility_id: FacilityId, pay_date: date) -> Sequence[Payment]:
        """Scheduled payments of the facility due by `pay_date` in no run, locked."""
        ...

    async def of_run(self, run_id: PaymentRunId) -> Sequence[Payment]: ...
    async def allocations_of(self, payment_ids: Sequence[str]) -> Sequence[PaymentAllocation]: ...
    async def allocation_to(self, invoice_id: InvoiceId) -> PaymentAllocation | None: ...
    async def settled_invoices(self, payment_ids: Sequence[str]) -> Sequence[Invoice]: ...
    async def facility_name(self, facility_id: FacilityId) -> str | None: ...

    async def posted_invoice_ids(
        self, *, limit: int, facility_id: FacilityId | None
    ) -> Sequence[InvoiceId]:
        """POSTED invoices waiting to be scheduled, oldest first."""
        ...

    async def awaiting_confirmation(self, limit: int) -> Sequence[Payment]:
        """Released payments the ERP took and has not confirmed yet, oldest first."""
        ...

    async def with_status(self, status: PaymentStatus, limit: int) -> Sequence[Payment]: ...
    async def add_run(self, run: PaymentRun) -> None: ...
    async def save_run(self, run: PaymentRun) -> None: ...
    async def run_for_update(self, run_id: PaymentRunId) -> PaymentRun | None: ...

    async def add_remittance(
        self, documents: Sequence[RemittanceDocument], *, at: datetime
    ) -> None: ...


class AuditWriter(Protocol):
    async def add(self, events: Sequence[AuditEvent], *, at: datetime) -> None:
        """Chained into the audit trail when the unit of work commits, with its change."""
        ...


class IdempotencyKeys(Protocol):
    async def get(self, scope: str, key: str) -> IdempotencyRecord | None: ...

    async def put(
        self,
        scope: str,
        key: str,
        *,
        fingerprint: str,
        result_ref: str,
        at: datetime,
        along: Sequence[IdempotencyRecord] = (),
    ) -> IdempotencyRecord:
        """Stores the key unless (scope, key) is on file; returns the record on file.

        The first request wins: when the answer is not the record just offered, another
        request holds the key (a concurrent one waits here for the first to end). Refusing a
        reused key with another fingerprint (IDEMPOTENCY_KEY_REUSED) is the caller's business.
        `along`: keys of other scopes stored in the same statement (one round trip), each
        unless on file, whatever the answer: a caller that loses the key rolls back.
        """
        ...


class UnitOfWork(Protocol):
    """One transaction: `async with uow:` ... `await uow.commit()`.

    Leaving the block without `commit()` (a refusal returned early, an exception) rolls back
    everything, outbox events and audit entries included. Single use: one block per instance.
    """

    @property
    def invoices(self) -> InvoiceWriter: ...
    @property
    def payments(self) -> PaymentWriter: ...
    @property
    def outbox(self) -> OutboxWriter: ...
    @property
    def audit(self) -> AuditWriter: ...
    @property
    def idempotency(self) -> IdempotencyKeys: ...
    @property
    def dead_letters(self) -> DeadLetterWriter: ...

    async def __aenter__(self) -> "UnitOfWork": ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class OutboxTurn(Protocol):
    """What a relay does in its turn: read the next batch, mark it published."""

    async def pending(self, limit: int) -> Sequence[OutboxRecord]:
        """Unpublished records, lowest sequence first."""
        ...

    async def mark_published(self, ids: Sequence[str], *, at: datetime) -> None:
        """Idempotent: a record already marked keeps its first `published_at`."""
        ...


class Outbox(Protocol):
    """What a relay and a resuming subscriber read of the outbox; a relay reads and marks its
    batch only in its turn."""

    def relay_turn(self) -> AbstractAsyncContextManager[OutboxTurn]:
        """Waits until no other process's relay is running a batch, then holds the turn for
        the block: relays of several processes take turns, so each batch is read, delivered
        and marked by one of them (no two deliver overlapping batches). The marks made
        through the turn hold once the block ended without an error."""
        ...

    async def after(self, sequence: int, limit: int) -> Sequence[OutboxRecord]:
        """Records with a higher sequence, published or not, lowest first: replay a cursor."""
        ...

    async def sequence_before(self, at: datetime) -> int:
        """The sequence to replay after to cover every event that occurred at or after `at`
        (the head when none did)."""
        ...

    async def by_ids(self, ids: Sequence[str]) -> Sequence[OutboxRecord]:
        """The records with these event ids, lowest sequence first (unknown ids left out)."""
        ...

    async def head(self) -> int:
        """The highest committed sequence (0 for an empty outbox): every lower one is
        committed too, so a reader at the head has missed nothing."""
        ...
