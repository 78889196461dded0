"""Materials management speaks plain JSON REST without authentication on the hospital network."""

import httpx

from apgraph.connectors.resilience import Endpoint
from apgraph.connectors.rest import RestClient

HEALTH = "api/health"


def materials_client(http: httpx.AsyncClient, endpoint: Endpoint) -> RestClient:
    return RestClient(http, endpoint, health_path=HEALTH)
