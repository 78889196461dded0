"""The analytics webhook takes JSON batches; it deduplicates them by Idempotency-Key."""

import httpx

from apgraph.connectors.resilience import Endpoint
from apgraph.connectors.rest import RestClient

HEALTH = "health"


def analytics_client(http: httpx.AsyncClient, endpoint: Endpoint) -> RestClient:
    return RestClient(http, endpoint, health_path=HEALTH)
