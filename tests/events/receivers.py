"""A partner's webhook endpoint on loopback, for the tests of webhook deliveries."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from standardwebhooks import Webhook as Verifier
from standardwebhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.live_server import serving


@dataclass
class Receiver:
    """A partner's endpoint: fails the first `fail_first` requests with 503, verifies every
    signature, and keeps each accepted delivery once by its webhook-id, as receivers should."""

    secret: str = ""
    fail_first: int = 0
    requests: int = 0
    accepted: dict[str, dict] = field(default_factory=dict)
    accepted_twice: list[str] = field(default_factory=list)
    forged: int = 0

    async def endpoint(self, request: Request) -> Response:
        self.requests += 1
        body = await request.body()
        try:
            event = Verifier(self.secret).verify(body, dict(request.headers))
        except WebhookVerificationError:
            self.forged += 1
            return Response(status_code=400)
        if self.requests <= self.fail_first:
            return Response(status_code=503)
        message = request.headers["webhook-id"]
        if message in self.accepted:
            self.accepted_twice.append(message)
        self.accepted[message] = event
        return Response(status_code=204)


@contextmanager
def receiving(receiver: Receiver) -> Iterator[str]:
    app = Starlette(routes=[Route("/hooks", receiver.endpoint, methods=["POST"])])
    with serving(app, name="webhook receiver") as base:
        yield f"{base}/hooks"
