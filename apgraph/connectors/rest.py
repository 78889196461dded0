"""A plain JSON-over-HTTP client behind the resilience wrapper, for the systems that need no
more (materials management, sourcing, analytics); the cloud ERP adds OAuth2 to the same calls."""

from typing import Any

import httpx

from apgraph.connectors.http import check_status, exchange, json_body, send
from apgraph.connectors.resilience import Endpoint

Query = dict[str, str | int]


class RestClient:
    def __init__(self, http: httpx.AsyncClient, endpoint: Endpoint, *, health_path: str) -> None:
        self._http = http
        self._health_path = health_path
        self.endpoint = endpoint

    async def get(self, path: str, *, params: Query | None = None) -> Any:
        """A read, its JSON decoded (numbers as Decimal)."""
        system = self.endpoint.system

        async def attempt() -> Any:
            return json_body(
                system, await exchange(system, lambda: self._http.get(path, params=params))
            )

        return await self.endpoint.call(f"GET {path}", attempt)

    async def post_deduplicated(
        self, path: str, payload: dict[str, Any], *, idempotency_key: str
    ) -> Any:
        """A write the receiver deduplicates by its Idempotency-Key, so resending it after a
        lost answer is safe without a lookup (a webhook has none)."""
        system = self.endpoint.system

        async def attempt() -> Any:
            response = await exchange(
                system,
                lambda: self._http.post(
                    path, json=payload, headers={"Idempotency-Key": idempotency_key}
                ),
            )
            return json_body(system, response)

        return await self.endpoint.call(f"POST {path}", attempt)

    async def ping(self) -> str | None:
        system = self.endpoint.system

        async def health() -> httpx.Response:
            return check_status(
                system, await send(system, lambda: self._http.get(self._health_path))
            )

        return await self.endpoint.probe(health)

    async def aclose(self) -> None:
        await self._http.aclose()
