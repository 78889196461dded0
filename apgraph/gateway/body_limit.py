"""Refuses request bodies over a limit before anything reads them: 413, not a full disk.

Starlette parses a multipart upload into temporary files as it arrives, so a 200 MB bundle
would be on disk before the resolver could refuse it. This wrapper answers a declared
Content-Length over the limit at once, and cuts off a chunked body the moment it passes the
limit. A plain GraphQL request has a small limit; a multipart upload (importMasterData's
bundle) may have a larger one. Written by hand: Starlette has no body-size limit of its own,
and uvicorn's `h11_max_incomplete_event_size` bounds headers only.
"""

import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DRAINED_AT_MOST = 8 * 1024 * 1024  # past the limit by more, the body is refused unread


@dataclass(frozen=True, slots=True)
class Limit:
    max_bytes: int
    shown: int  # what the refusal names: the upload limit leaves out the multipart envelope

    def __post_init__(self) -> None:
        if self.max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {self.max_bytes}")


async def _drain(receive: Receive) -> None:
    """Reads a modestly oversized body to its end, discarding it, so the client reads the 413
    rather than a connection reset (closing on unread bytes makes the kernel send RST)."""
    more = True
    while more:
        message = await receive()
        more = message["type"] == "http.request" and message.get("more_body", False)


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        limit_shown: int | None = None,
        multipart: Limit | None = None,
    ) -> None:
        """`limit_shown`: the limit the refusal names, when callers know another figure.
        `multipart`: the limit of `multipart/form-data` bodies (file uploads), when they
        may be larger than every other body."""
        self.app = app
        self.limit = Limit(max_bytes, limit_shown or max_bytes)
        self.multipart = multipart or self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        limit = self.multipart if content_type == b"multipart/form-data" else self.limit
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit.max_bytes:
            if int(declared) <= limit.max_bytes + DRAINED_AT_MOST:
                await _drain(receive)
            await self._refuse(send, limit)
            return
        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            """Past the limit: answer 413 now, and tell the app the client has gone."""
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer; whatever the app says after it is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, send: Send, limit: Limit) -> None:
        message = f"the request body is larger than the limit of {limit.shown} bytes"
        body = json.dumps(
            {
                "data": None,
                "errors": [
                    {
                        "message": message,
                        "extensions": {"code": "PAYLOAD_TOO_LARGE"},
                    }
                ],
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
