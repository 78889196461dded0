"""Attachment metadata and content, visible exactly when their invoice is."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.attachments import Attachment
from apgraph.domain.ids import AttachmentId, InvoiceId
from apgraph.domain.principal import RowScope
from apgraph.store.reading import fetch
from apgraph.store.scoping import by_supplier_and_facility
from apgraph.store.tables import AttachmentContentRow, AttachmentRow, InvoiceRow

_attachments = AttachmentRow.__table__.c
_contents = AttachmentContentRow.__table__.c
_invoices = InvoiceRow.__table__.c


def attachment_from_row(row: Row[Any]) -> Attachment:
    return Attachment(
        id=AttachmentId(row.id),
        invoice_id=InvoiceId(row.invoice_id),
        filename=row.filename,
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        uploaded_at=row.uploaded_at,
    )


@dataclass(frozen=True, slots=True)
class AttachmentRepository:
    engine: AsyncEngine
    scope: RowScope

    def _visible(self, *columns: Any) -> Select[Any]:
        joined = AttachmentRow.__table__.join(
            InvoiceRow.__table__, _attachments.invoice_id == _invoices.id
        )
        return by_supplier_and_facility(
            select(*columns).select_from(joined),
            self.scope,
            supplier=_invoices.supplier_id,
            facility=_invoices.facility_id,
        )

    async def of_invoices(self, invoice_ids: Sequence[str]) -> Sequence[Attachment]:
        statement = (
            self._visible(*AttachmentRow.__table__.c)
            .where(_attachments.invoice_id.in_(invoice_ids))
            .order_by(_attachments.id)
        )
        return [attachment_from_row(row) for row in await fetch(self.engine, statement)]

    async def with_content(self, attachment_id: str) -> tuple[Attachment, bytes] | None:
        """Metadata and bytes in one statement; None when unknown or not the caller's."""
        statement = (
            self._visible(*AttachmentRow.__table__.c, _contents.content)
            .join(AttachmentContentRow.__table__, _contents.attachment_id == _attachments.id)
            .where(_attachments.id == attachment_id)
        )
        rows = await fetch(self.engine, statement)
        return (attachment_from_row(rows[0]), rows[0].content) if rows else None
