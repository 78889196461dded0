"""An ERP posting through the posting ledger: exactly once across attempts, calls and restarts.

The ledger marks a posting SENT before anything leaves. If its answer is lost and the process
gives up (or dies), the row stays SENT, and the next post with that key asks the ERP by key
first instead of posting again.
"""

from collections.abc import Awaitable, Callable

from apgraph.connectors.resilience import OutcomeUnknown
from apgraph.domain.erp import ErpDocumentRef
from apgraph.domain.invoices import Invoice
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.connectors import (
    ConnectorError,
    ConnectorMappingError,
    ConnectorRejected,
    PostingLedger,
    PostingState,
)

# Before one of these, a request may have reached the ERP: look it up before posting again.
_MAYBE_POSTED = frozenset({PostingState.SENT, PostingState.POSTED})


async def post_once(
    ledger: PostingLedger,
    clock: Clock,
    *,
    system: ExternalSystem,
    invoice: Invoice,
    idempotency_key: str,
    post: Callable[[bool], Awaitable[ErpDocumentRef]],
) -> ErpDocumentRef:
    """Runs `post(look_up_first)` and records how it ended."""
    previous = await ledger.begin(
        system=system, idempotency_key=idempotency_key, invoice=invoice, at=clock.now()
    )

    async def settle(state: PostingState, number: str | None, error: str | None) -> None:
        await ledger.settle(
            system=system,
            idempotency_key=idempotency_key,
            state=state,
            document_number=number,
            error=error,
            at=clock.now(),
        )

    try:
        document = await post(previous in _MAYBE_POSTED)
    except ConnectorRejected as error:
        await settle(PostingState.REJECTED, None, str(error))
        raise
    except (OutcomeUnknown, ConnectorMappingError) as error:
        # the ERP may have booked it (or did, and said so in a shape we cannot read)
        await settle(PostingState.SENT, None, str(error))
        raise
    except ConnectorError as error:
        await settle(PostingState.NOT_POSTED, None, str(error))
        raise
    await settle(PostingState.POSTED, document.document_number, None)
    return document
