"""POs for the workflow tests on one running server: the pool's while they last, then copies
minted through the master-data import, so adding a test never runs the pool dry.

A minted PO copies a pool PO (supplier, facility, cost center, lines, receipts line for line,
today's contract prices) under fresh IDs, and is imported with `import_bundle` into the
server's database and sinks, so the ERP routes and the simulated materials and sourcing
systems know it as they know the seed. Its lines get items of their own, priced a few cents
above the original's on the PO and under the contract alike, the more the later the copy:
an invoice billing the same quantities on a copy totals more than on its original or on any
earlier copy, so it is never a DUPLICATE_INVOICE (same supplier, currency and total within
a week, on any PO) of theirs.
"""

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from apgraph.domain.bundle import MasterDataBundle, PurchaseOrderEntry
from apgraph.domain.ids import ContractPriceId, GoodsReceiptId, PurchaseOrderId
from apgraph.domain.purchasing import ContractPrice, GoodsReceipt
from apgraph.domain.submission import SubmittedInvoice
from apgraph.gateway.runtime import Runtime
from apgraph.services.onboarding import import_bundle
from apgraph.store.master_data_io import SqlMasterData
from tests.workflow import EXCEPTION_RECEIPTS, Order, Orders, Receipts, today

PRICE_STEP = Decimal("0.02")  # per unit and copy: at least a cent on a half unit
CONTRACT_DAYS = timedelta(days=30)  # a copied contract runs this long either side of today
MAX_COPIES = 999  # the IDs below leave room for this many per database
MAX_LINES = 99


class Mint:
    """Copies of pool POs, imported into one running server's database (and its sinks) under
    IDs no seed uses: `PO-2026-7nnnnn`, `GR-07nnnnll`, `CT-7nnnll` (copy n, PO line l)."""

    def __init__(self, runtime: Runtime, backend: str) -> None:
        self.runtime = runtime
        self.backend = backend
        self._minted = 0

    async def copy(self, sources: Iterable[Order], fits: Callable[[Order], bool]) -> Order:
        """A copy of the first of `sources` whose copy `fits`, imported before it is returned."""
        number = self._minted + 1
        assert number <= MAX_COPIES, f"{MAX_COPIES} POs minted on {self.backend}; widen the IDs"
        copy = next((c for c in (copy_of(s, number) for s in sources) if fits(c)), None)
        if copy is None:
            raise LookupError(f"no PO in the pool to copy for this request on {self.backend}")
        report = await import_bundle(
            self._bundle(copy, number),
            store=SqlMasterData(self.runtime.engine, self.runtime.keyring),
            sinks=self.runtime.connectors.master_data_sinks,
            actor="tests.order-mint",
            clock=self.runtime.clock,
        )
        assert report.applied, [problem.line() for problem in report.problems]
        self._minted = number
        return copy

    def _bundle(self, copy: Order, number: int) -> MasterDataBundle:
        received_at = self.runtime.clock.now() - timedelta(days=1)
        items = {line.item_id: line.line_no for line in copy.lines}
        return MasterDataBundle(
            purchase_orders=(PurchaseOrderEntry(copy.order, copy.lines),),
            goods_receipts=tuple(
                GoodsReceipt(
                    GoodsReceiptId(f"GR-07{number:04d}{line_no:02d}"),
                    copy.order.id,
                    line_no,
                    quantity,
                    received_at,
                )
                for line_no, quantity in sorted(copy.received.items())
                if quantity
            ),
            contract_prices=tuple(
                ContractPrice(
                    ContractPriceId(f"CT-7{number:03d}{items[item_id]:02d}"),
                    copy.supplier.id,
                    item_id,
                    price,
                    copy.order.currency,
                    today() - CONTRACT_DAYS,
                    today() + CONTRACT_DAYS,
                )
                for item_id, price in sorted(
                    copy.contract_prices.items(), key=lambda p: items[p[0]]
                )
            ),
        )


def copy_of(source: Order, number: int) -> Order:
    """Copy `number` of `source`: the same receipts and contracts, on items of its own priced
    `number` steps higher (not yet stored)."""
    assert len(source.lines) <= MAX_LINES
    step = PRICE_STEP * number
    item = {line.item_id: f"{line.item_id}-M{number:03d}" for line in source.lines}
    return replace(
        source,
        order=replace(source.order, id=PurchaseOrderId(f"PO-2026-7{number:05d}")),
        lines=tuple(
            replace(line, item_id=item[line.item_id], unit_price=line.unit_price + step)
            for line in source.lines
        ),
        received=dict(source.received),
        contract_prices={
            item[item_id]: price + step for item_id, price in source.contract_prices.items()
        },
    )


class OrderSupply:
    """`Orders`' requests against one running server, answered from the pool while it has an
    untaken PO that fits, then with a minted copy of one that does (taken or not)."""

    def __init__(self, pool: Orders, mint: Mint) -> None:
        self.pool = pool
        self.mint = mint

    async def take(
        self,
        receipts: Receipts,
        *,
        small_exception: bool = False,
        approvers: int = 1,
        lines: int = 1,
        other_than: str | None = None,
    ) -> Order:
        def fits(order: Order) -> bool:
            return order.supplier.id != other_than and order.fits(
                receipts, small_exception=small_exception, approvers=approvers, lines=lines
            )

        try:
            return self.pool.take(
                self.mint.backend,
                receipts,
                small_exception=small_exception,
                approvers=approvers,
                lines=lines,
                other_than=other_than,
            )
        except LookupError:
            return await self.mint.copy(self.pool.all, fits)

    async def for_exception(self, *, approvers: int = 1) -> Order:
        """See `Orders.for_exception`; a copy is of a partially received PO if any fits."""
        try:
            return self.pool.for_exception(self.mint.backend, approvers=approvers)
        except LookupError:
            sources = [
                order
                for receipts in EXCEPTION_RECEIPTS
                for order in self.pool.all
                if order.receipts == receipts
            ]
            return await self.mint.copy(
                sources,
                lambda order: order.fits(order.receipts, small_exception=True, approvers=approvers),
            )

    async def for_large_exception(self, subtotal: Decimal) -> tuple[Order, SubmittedInvoice]:
        """See `Orders.for_large_exception`."""
        try:
            return self.pool.for_large_exception(self.mint.backend, subtotal)
        except LookupError:
            copy = await self.mint.copy(
                self.pool.all, lambda order: order.large_exception_invoice(subtotal) is not None
            )
        invoice = copy.large_exception_invoice(subtotal)
        assert invoice is not None
        return copy, invoice

    def any_order(self) -> Order:
        """A billable PO, not taken: for invoices refused or REJECTED, which never count
        towards a PO's billed quantities."""
        untaken = (o for o in self.pool.untaken(self.mint.backend) if o.receipts == "full")
        # a PO another test took may have been closed by it (test_facts_rechecked_...)
        return next(untaken, None) or next(o for o in self.pool.all if o.receipts == "full")
