"""GET /attachments/{id}/content: the bytes of one attachment, or of one remittance advice
document (RA-…, of a payment the caller may see with `payments:read`), for callers who may
see it."""

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from apgraph.domain import ids


async def attachment_content(request: Request) -> Response:
    raw = request.path_params["attachment_id"]
    if REMITTANCE_ID.fullmatch(raw):
        return await _remittance_content(request, raw)
    try:
        attachment_id = ids.attachment(raw)
    except ids.InvalidId as error:
        return JSONResponse({"code": "BAD_USER_INPUT", "message": str(error)}, status_code=400)
    principal = request.state.principal  # RequireBearer let the request through
    store = request.app.state.runtime.reads(principal.row_scope)
    found = await store.attachments.with_content(attachment_id)
    if found is None:  # unknown and not-yours answer alike
        return _not_found(attachment_id)
    attachment, content = found
    return _download(content, attachment.media_type, attachment.filename, attachment.sha256)


REMITTANCE_ID = re.compile(r"RA-\d{8}")


async def _remittance_content(request: Request, document_id: str) -> Response:
    principal = request.state.principal
    found = None
    if principal.has_scope("payments:read"):
        store = request.app.state.runtime.reads(principal.row_scope)
        found = await store.payments.remittance_content(document_id)
    if found is None:  # unknown, not yours, and no payments:read answer alike
        return _not_found(document_id)
    info, content = found
    return _download(content, info.media_type, info.filename, info.sha256)


def _not_found(document_id: str) -> JSONResponse:
    return JSONResponse(
        {"code": "NOT_FOUND", "message": f"no attachment {document_id}"}, status_code=404
    )


def _download(content: bytes, media_type: str, filename: str, sha256: str) -> Response:
    """One set of download headers for both kinds: a file to save, never to render in the
    page (nosniff) or to keep in a shared cache."""
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "ETag": f'"{sha256}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
