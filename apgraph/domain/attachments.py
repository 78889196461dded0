"""Documents attached to invoices (the PDF, a delivery note). Content is fetched separately."""

from dataclasses import dataclass
from datetime import datetime

from apgraph.domain.ids import AttachmentId, InvoiceId


@dataclass(frozen=True, slots=True)
class Attachment:
    id: AttachmentId
    invoice_id: InvoiceId
    filename: str
    media_type: str
    size: int  # bytes
    sha256: str  # hex digest of the content, so a client can check what it downloaded
    uploaded_at: datetime
