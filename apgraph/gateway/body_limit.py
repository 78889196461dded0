"""Refuses request bodies over a limit before anything reads them: 413, not a full disk.

Starlette parses a multipart upload into temporary files as it arrives, so a 200 MB bundle
would be on disk before the resolver could refuse it. This wrapper answers a declared
Content-Length over the limit at once, and cuts off a chunked body the moment it passes the
limit. Written by hand: Starlette has no body-size limit of its own, and uvicorn's
`h11_max_incomplete_event_size` bounds headers only.
"""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int, limit_shown: int | None = None) -> None:
        """`limit_shown`: the limit the refusal names, when callers know another figure (the
        upload limit, where `max_bytes` adds the multipart envelope around the file)."""
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.app = app
        self.max_bytes = max_bytes
        self.limit_shown = limit_shown or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
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
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(send)
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

    async def _refuse(self, send: Send) -> None:
        message = f"the request body is larger than the limit of {self.limit_shown} bytes"
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
