"""The sourcing/contracts platform: contracted unit prices per supplier and item, as JSON REST.

It answers every agreement line for the pair; which one is valid on a date is the caller's
question to settle.
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
from apgraph.domain.purchasing import ContractPrice
from apgraph.simulators.faults import FaultInjection, FaultPlan, control_routes


@dataclass(slots=True)
class SourcingSimulator:
    prices: dict[tuple[str, str], list[ContractPrice]]
    plan: FaultPlan
    app: ASGIApp

    def load(self, bundle: MasterDataBundle) -> None:
        """Adds the imported contract prices; one with an agreement line already known
        replaces it. Each touched (supplier, item) gets a new list, as in materials."""
        if not bundle.contract_prices:
            return
        incoming = {contract.id: contract for contract in bundle.contract_prices}
        touched: set[tuple[str, str]] = {(c.supplier_id, c.item_id) for c in incoming.values()}
        touched |= {
            pair
            for pair, contracts in self.prices.items()
            if any(contract.id in incoming for contract in contracts)
        }
        by_pair: dict[tuple[str, str], list[ContractPrice]] = defaultdict(list)
        for contract in incoming.values():
            by_pair[(contract.supplier_id, contract.item_id)].append(contract)
        for pair in touched:
            kept = [c for c in self.prices.get(pair, []) if c.id not in incoming]
            self.prices[pair] = sorted(kept + by_pair.get(pair, []), key=lambda c: c.id)


def create(network: DemoNetwork) -> SourcingSimulator:
    prices: dict[tuple[str, str], list[ContractPrice]] = defaultdict(list)
    for contract in network.contract_prices:
        prices[(contract.supplier_id, contract.item_id)].append(contract)
    plan = FaultPlan()

    async def agreement_lines(request: Request) -> Response:
        supplier = request.query_params.get("supplierRef")
        item = request.query_params.get("itemRef")
        if not supplier or not item:
            return JSONResponse({"error": "supplierRef and itemRef are required"}, 400)
        return JSONResponse(
            {
                "data": [
                    {
                        "agreementLine": int(contract.id.removeprefix("CT-")),
                        "supplierRef": contract.supplier_id,
                        "itemRef": contract.item_id,
                        "price": {
                            "value": format(contract.unit_price, "f"),
                            "currency": contract.currency,
                        },
                        "validity": {
                            "start": contract.valid_from.isoformat(),
                            "end": contract.valid_to.isoformat(),
                        },
                    }
                    for contract in prices.get((supplier, item), [])
                ]
            }
        )

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/v1/agreement-lines", agreement_lines),
            Route("/v1/health", health),
            *control_routes(plan),
        ]
    )
    return SourcingSimulator(prices=prices, plan=plan, app=FaultInjection(app, plan))
