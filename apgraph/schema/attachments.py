"""Attachment metadata. The bytes are served at an HTTP route, never inline in GraphQL."""

import datetime
from typing import Self

import strawberry

from apgraph.domain.attachments import Attachment

CONTENT_ROUTE = "/attachments/{id}/content"


@strawberry.type(name="Attachment", description="A document attached to an invoice.")
class AttachmentType:
    id: strawberry.ID = strawberry.field(description="Canonical ID, DOC-….")
    filename: str = strawberry.field(description="The file name as uploaded.")
    media_type: str = strawberry.field(description="e.g. application/pdf.")
    size: int = strawberry.field(description="Bytes.")
    sha256: str = strawberry.field(description="Hex digest of the content.")
    uploaded_at: datetime.datetime = strawberry.field(description="When it was attached (UTC).")
    download_path: str = strawberry.field(
        description="Path on this server that serves the content to callers who may see it."
    )

    @classmethod
    def from_domain(cls, attachment: Attachment) -> Self:
        return cls(
            id=strawberry.ID(attachment.id),
            filename=attachment.filename,
            media_type=attachment.media_type,
            size=attachment.size,
            sha256=attachment.sha256,
            uploaded_at=attachment.uploaded_at,
            download_path=CONTENT_ROUTE.format(id=attachment.id),
        )
