"""The sourcing platform speaks plain JSON REST without authentication on the hospital network."""

import httpx

from apgraph.connectors.resilience import Endpoint
from apgraph.connectors.rest import RestClient

HEALTH = "v1/health"


def sourcing_client(http: httpx.AsyncClient, endpoint: Endpoint) -> RestClient:
    return RestClient(http, endpoint, health_path=HEALTH)
