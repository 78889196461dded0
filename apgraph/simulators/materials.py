"""Materials management: goods receipts per purchase order, as JSON REST.

Quantities are decimal strings; a PO it has never seen simply has no receipts.
"""

from collections import defaultdict
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from apgraph.demo.generator import DemoNetwork
from apgraph.domain.bundle import MasterDataBundle
from apgraph.domain.purchasing import GoodsReceipt
from apgraph.simulators.faults import FaultInjection, FaultPlan, control_routes


@dataclass(slots=True)
class MaterialsSimulator:
    receipts: dict[str, list[GoodsReceipt]]
    plan: FaultPlan
    app: ASGIApp

    def load(self, bundle: MasterDataBundle) -> None:
        """Adds the imported receipts; one with a receipt number already known replaces it.

        Each touched order gets a new list, so a request reading the old one finishes on it.
        """
        if not bundle.goods_receipts:
            return
        incoming = {receipt.id: receipt for receipt in bundle.goods_receipts}
        touched: set[str] = {receipt.purchase_order_id for receipt in incoming.values()}
        touched |= {
            order
            for order, receipts in self.receipts.items()
            if any(receipt.id in incoming for receipt in receipts)
        }
        by_order: dict[str, list[GoodsReceipt]] = defaultdict(list)
        for receipt in incoming.values():
            by_order[receipt.purchase_order_id].append(receipt)
        for order in touched:
            kept = [r for r in self.receipts.get(order, []) if r.id not in incoming]
            self.receipts[order] = sorted(kept + by_order.get(order, []), key=lambda r: r.id)


def create(network: DemoNetwork) -> MaterialsSimulator:
    receipts: dict[str, list[GoodsReceipt]] = defaultdict(list)
    for receipt in network.goods_receipts:
        receipts[receipt.purchase_order_id].append(receipt)
    plan = FaultPlan()

    async def of_order(request: Request) -> Response:
        order = request.path_params["po"]
        return JSONResponse(
            {
                "purchaseOrder": order,
                "receipts": [
                    {
                        "receiptNumber": receipt.id.removeprefix("GR-"),
                        "poLine": receipt.line_no,
                        "quantityReceived": format(receipt.quantity, "f"),
                        "receivedAt": receipt.received_at.isoformat().replace("+00:00", "Z"),
                    }
                    for receipt in receipts.get(order, [])
                ],
            }
        )

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/api/purchase-orders/{po}/receipts", of_order),
            Route("/api/health", health),
            *control_routes(plan),
        ]
    )
    return MaterialsSimulator(receipts=receipts, plan=plan, app=FaultInjection(app, plan))
