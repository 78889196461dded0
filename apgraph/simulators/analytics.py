"""The analytics platform's payment-forecast webhook: batches of records, deduplicated by
their Idempotency-Key the way such platforms do (a repeat is acknowledged, not counted)."""

import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from apgraph.simulators.faults import CONTROL_PREFIX, FaultInjection, FaultPlan, control_routes

_RECORD_FIELDS = ("invoiceRef", "supplierRef", "siteRef", "amount", "currency", "expectedDate")


@dataclass(slots=True)
class Received:
    batches: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by key, in order
    duplicates: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def records(self) -> int:
        return sum(len(batch) for batch in self.batches.values())


@dataclass(slots=True)
class AnalyticsSimulator:
    received: Received
    plan: FaultPlan
    app: ASGIApp


def create() -> AnalyticsSimulator:
    received = Received()
    plan = FaultPlan()

    async def forecasts(request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        if not key:
            return JSONResponse({"error": "Idempotency-Key header required"}, 400)
        try:
            records = (await request.json())["records"]
            for record in records:
                missing = [name for name in _RECORD_FIELDS if name not in record]
                if missing:
                    raise ValueError(f"record without {', '.join(missing)}")
                Decimal(record["amount"])
        except (KeyError, ValueError, TypeError, InvalidOperation) as error:
            return JSONResponse({"error": f"invalid batch: {error}"}, 400)
        with received._lock:
            if key in received.batches:
                received.duplicates += 1
                return JSONResponse({"accepted": 0, "duplicate": True})
            received.batches[key] = records
        return JSONResponse({"accepted": len(records), "duplicate": False}, status_code=202)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def summary(_: Request) -> Response:
        return JSONResponse(
            {
                "batches": len(received.batches),
                "records": received.records,
                "duplicates": received.duplicates,
            }
        )

    app = Starlette(
        routes=[
            Route("/webhooks/payment-forecasts", forecasts, methods=["POST"]),
            Route("/health", health),
            Route(f"{CONTROL_PREFIX}/received", summary),
            *control_routes(plan),
        ]
    )
    return AnalyticsSimulator(received=received, plan=plan, app=FaultInjection(app, plan))
