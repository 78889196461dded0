"""JSON REST with OAuth2 client credentials: authlib's httpx client fetches the token, keeps
it until it is about to expire (then fetches a new one before the call), and on a 401 (the
ERP revoked or rotated it) this client fetches a fresh one and repeats the request once."""

import warnings
from collections.abc import Callable
from typing import Any

import httpx

from apgraph.connectors.http import check_status, json_body, send
from apgraph.connectors.resilience import Endpoint
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import (
    ConnectorError,
    ConnectorMappingError,
    ConnectorRejected,
)

with warnings.catch_warnings():
    # authlib ≥ 1.7 warns when it runs on httpx instead of httpx2; apgraph is on httpx
    # throughout, which authlib still supports. The warning says nothing an operator can act
    # on. (authlib.deprecate installs an "always" filter on import, so ours must come after.)
    from authlib.deprecate import AuthlibDeprecationWarning

    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

SYSTEM = ExternalSystem.CLOUD_ERP
Query = dict[str, str | int]


class CloudErpClient:
    def __init__(self, http: AsyncOAuth2Client, endpoint: Endpoint, *, token_url: str) -> None:
        self._http = http
        self._token_url = token_url
        self.endpoint = endpoint

    @classmethod
    def connect(
        cls,
        endpoint: Endpoint,
        *,
        base_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> "CloudErpClient":
        http = AsyncOAuth2Client(
            client_id=client_id,
            client_secret=client_secret,
            token_endpoint=token_url,
            grant_type="client_credentials",
            token_endpoint_auth_method="client_secret_post",
            base_url=base_url,
            timeout=endpoint.policy.http_timeout(),
            transport=transport,
            leeway=30,  # fetch a new token this many seconds before the old one expires
        )
        return cls(http, endpoint, token_url=token_url)

    async def get(self, path: str, *, params: Query | None = None) -> Any:
        """A read, its JSON decoded (numbers as Decimal)."""
        return await self.endpoint.call(
            f"GET {path}", lambda: self._json("GET", path, params=params)
        )

    async def post(
        self,
        path: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str,
        lookup: tuple[str, Query],
        answered: Callable[[Any], Any],
        outcome_unknown: bool,
    ) -> Any:
        """A write with an Idempotency-Key header. `lookup` (path, query) asks for it by that
        key; `answered(lookup's JSON)` is what it found, or None."""

        async def find() -> Any:
            path, query = lookup
            return answered(await self._json("GET", path, params=query))

        return await self.endpoint.write(
            f"POST {path}",
            lambda: self._json(
                "POST", path, json=payload, headers={"Idempotency-Key": idempotency_key}
            ),
            find=find,
            outcome_unknown=outcome_unknown,
        )

    async def ping(self) -> str | None:
        """Health, with a token: a wrong client secret shows here, not at the first posting."""
        return await self.endpoint.probe(lambda: self._json("GET", "api/v2/health"))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _json(self, method: str, path: str, **options: Any) -> Any:
        if not self._http.token:
            await self._fetch_token()
        response = await self._request(method, path, **options)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            await self._fetch_token()
            response = await self._request(method, path, **options)
        return json_body(SYSTEM, check_status(SYSTEM, response))

    async def _request(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            response: httpx.Response = await send(
                SYSTEM, lambda: self._http.request(method, path, **options)
            )
        except (OAuthError, httpx.HTTPStatusError, ValueError) as error:
            raise _token_failure(error) from None  # authlib renewed an expired token, and failed
        return response

    async def _fetch_token(self) -> None:
        try:
            await send(
                SYSTEM,
                lambda: self._http.fetch_token(self._token_url, grant_type="client_credentials"),
            )
        except (OAuthError, httpx.HTTPStatusError, ValueError) as error:
            raise _token_failure(error) from None


def _token_failure(error: Exception) -> ConnectorError:
    """What the token endpoint's failure means: authlib raises OAuthError for an OAuth error
    answer, HTTPStatusError for a 5xx or a non-JSON error page, ValueError for a 2xx whose
    body is no token."""
    if isinstance(error, OAuthError):
        return ConnectorRejected(
            SYSTEM, f"token endpoint refused the client: {error.error} {error.description or ''}"
        )
    if isinstance(error, httpx.HTTPStatusError):
        try:
            check_status(SYSTEM, error.response)
        except ConnectorError as translated:
            return translated
    return ConnectorMappingError(SYSTEM, "access_token", str(error))
