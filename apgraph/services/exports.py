"""What an export of master data may carry out of the system, and the audit entry it leaves.

Classified values leave masked unless the operator asks for them in plain, and either way
the export is recorded: who, how much, and whether plain values left.
"""

import json
from collections.abc import Sequence
from dataclasses import replace

from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.domain.bundle import MasterDataBundle
from apgraph.domain.classified import mask
from apgraph.domain.suppliers import Supplier

EXPORTED = "master_data.exported"


def masked(bundle: MasterDataBundle) -> MasterDataBundle:
    """Tax ids and bank routing and account numbers masked, as the API shows them."""
    return replace(
        bundle,
        suppliers=tuple(
            replace(entry, supplier=_masked(entry.supplier)) for entry in bundle.suppliers
        ),
    )


def _masked(supplier: Supplier) -> Supplier:
    bank = supplier.remit_to
    return replace(
        supplier,
        tax_id=mask(supplier.tax_id),
        remit_to=(
            replace(
                bank,
                routing_number=mask(bank.routing_number),
                account_number=mask(bank.account_number),
            )
            if bank is not None
            else None
        ),
    )


def exported(
    *, actor: str, bundle: MasterDataBundle, plain: bool, facilities: Sequence[str] | None
) -> AuditEvent:
    detail = {
        "classified": "plain" if plain else "masked",
        "counts": bundle.counts(),
        "facilities": list(facilities) if facilities is not None else "all",
    }
    return AuditEvent(
        subject=actor,
        action=EXPORTED,
        outcome=AuditOutcome.SUCCEEDED,
        entity_ids=tuple(entry.supplier.id for entry in bundle.suppliers) if plain else (),
        detail=json.dumps(detail, sort_keys=True),
    )
