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

from apgraph.domain.purchasing import ContractPrice
from apgraph.simulators.faults import FaultInjection, FaultPlan, control_routes
from apgraph.store.seed import DemoNetwork


@dataclass(slots=True)
class SourcingSimulator:
    prices: dict[tuple[str, str], list[ContractPrice]]
    plan: FaultPlan
    app: ASGIApp


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
