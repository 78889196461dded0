"""SOAP 1.1 over httpx: envelopes out, payload elements or connector errors back.

Hand-written rather than zeep: zeep loads the WSDL synchronously (blocking the event loop, and
unable to go through the in-process ASGI transport of the embedded mode), brings lxml and
requests for five operations, and its generated objects would carry the vendor's shapes past
our mapping module. The simulator serves the WSDL; a test checks that every operation and the
namespace this connector uses are the ones the WSDL declares.

Every SOAP fault is a ConnectorRejected and never retried, whatever its HTTP status.
Responses are parsed with defusedxml (no DTDs, no entity expansion): the ERP is outside.
"""

from collections.abc import Callable
from xml.etree.ElementTree import Element, SubElement, tostring

import httpx
from defusedxml import ElementTree as SafeElementTree

from apgraph.connectors.http import check_status, send
from apgraph.connectors.resilience import Endpoint
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import ConnectorMappingError, ConnectorRejected

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SYSTEM = ExternalSystem.LEGACY_ERP
_BODY = f"{{{SOAP_ENV}}}Body"
_FAULT = f"{{{SOAP_ENV}}}Fault"


class LegacyErpClient:
    """Owns the HTTP client of the SOAP endpoint (`{base_url}/soap`) and its resilience."""

    def __init__(self, http: httpx.AsyncClient, endpoint: Endpoint) -> None:
        self._http = http
        self.endpoint = endpoint

    async def read(self, request: Element) -> Element:
        """The response payload of one operation (its name is the request's element name)."""
        return await self.endpoint.call(operation_of(request), lambda: self._exchange(request))

    async def write(
        self,
        request: Element,
        *,
        lookup: Element,
        answered: Callable[[Element], bool],
        outcome_unknown: bool,
    ) -> Element:
        """`request` under its idempotency key; `lookup` asks for it by that key, and
        `answered(lookup's response)` says whether the ERP had it."""

        async def find() -> Element | None:
            response = await self._exchange(lookup)
            return response if answered(response) else None

        return await self.endpoint.write(
            operation_of(request),
            lambda: self._exchange(request),
            find=find,
            outcome_unknown=outcome_unknown,
        )

    async def ping(self) -> str | None:
        async def wsdl() -> httpx.Response:
            return check_status(SYSTEM, await send(SYSTEM, lambda: self._http.get("soap?wsdl")))

        return await self.endpoint.probe(wsdl)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _exchange(self, payload: Element) -> Element:
        envelope = Element(f"{{{SOAP_ENV}}}Envelope")
        SubElement(envelope, _BODY).append(payload)
        namespace, name = _split(payload.tag)
        response = await send(
            SYSTEM,
            lambda: self._http.post(
                "soap",
                content=tostring(envelope, encoding="utf-8", xml_declaration=True),
                headers={
                    "Content-Type": "text/xml; charset=utf-8",
                    "SOAPAction": f'"{namespace}/{name}"',
                },
            ),
        )
        body = _body_of(response)
        if body is None:
            check_status(SYSTEM, response)  # a 5xx or 429 without a SOAP body
            raise ConnectorMappingError(SYSTEM, "(body)", "the answer is not a SOAP envelope")
        fault = body.find(_FAULT)
        if fault is not None:
            code = fault.findtext("faultcode", default="?").strip()
            message = fault.findtext("faultstring", default="").strip()
            raise ConnectorRejected(SYSTEM, f"SOAP fault {code}: {message}")
        check_status(SYSTEM, response)
        if len(body) == 0:
            raise ConnectorMappingError(SYSTEM, "(body)", "empty SOAP body")
        result: Element = body[0]
        return result


def operation_of(payload: Element) -> str:
    return _split(payload.tag)[1]


def _split(tag: str) -> tuple[str, str]:
    namespace, _, name = tag.removeprefix("{").rpartition("}")
    return namespace, name


def _body_of(response: httpx.Response) -> Element | None:
    try:
        root = SafeElementTree.fromstring(response.content, forbid_dtd=True)
    except (SafeElementTree.ParseError, ValueError):  # defusedxml's own errors are ValueErrors
        return None
    body: Element | None = root.find(_BODY) if root.tag == f"{{{SOAP_ENV}}}Envelope" else None
    return body
