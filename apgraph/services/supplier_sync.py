"""Links each ERP vendor to its canonical supplier: the cross-reference every posting needs."""

from collections.abc import Sequence
from dataclasses import dataclass

from apgraph.domain.erp import normalized_tax_id
from apgraph.domain.ids import SupplierId
from apgraph.domain.suppliers import Supplier
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.connectors import CrossReferences, SupplierMaster
from apgraph.services.ports.reads import PageRequest, SupplierFilter, SupplierReader

_PAGE = 500


@dataclass(frozen=True, slots=True)
class SyncReport:
    system: ExternalSystem
    linked: int
    unmatched_vendors: tuple[str, ...]  # vendor keys no supplier has the tax ID of
    ambiguous_tax_ids: tuple[str, ...]  # tax IDs several suppliers (or vendors) share


async def sync_vendor_links(
    *, master: SupplierMaster, suppliers: SupplierReader, xrefs: CrossReferences, clock: Clock
) -> SyncReport:
    """A vendor matches the supplier with the same tax ID (letters and digits only).

    A tax ID that two suppliers or two vendors share links neither: guessing would post one
    supplier's invoices to another's account. Existing links of other suppliers stay.
    """
    vendors = await master.vendors()
    known = await _all_suppliers(suppliers)
    by_tax: dict[str, list[SupplierId]] = {}
    for supplier in known:
        by_tax.setdefault(normalized_tax_id(supplier.tax_id), []).append(supplier.id)
    vendors_by_tax: dict[str, list[str]] = {}
    for vendor in vendors:
        vendors_by_tax.setdefault(normalized_tax_id(vendor.tax_id), []).append(vendor.vendor_key)

    links: dict[SupplierId, str] = {}
    unmatched: list[str] = []
    ambiguous: set[str] = set()
    for tax_id, keys in vendors_by_tax.items():
        matches = by_tax.get(tax_id, [])
        if not matches:
            unmatched.extend(keys)
        elif len(matches) > 1 or len(keys) > 1:
            ambiguous.add(tax_id)
        else:
            links[matches[0]] = keys[0]
    await xrefs.link_vendors(master.system, links, at=clock.now())
    return SyncReport(
        system=master.system,
        linked=len(links),
        unmatched_vendors=tuple(sorted(unmatched)),
        ambiguous_tax_ids=tuple(sorted(ambiguous)),
    )


async def _all_suppliers(reader: SupplierReader) -> Sequence[Supplier]:
    found: list[Supplier] = []
    after: str | None = None
    while True:
        page = await reader.page(SupplierFilter(), PageRequest(first=_PAGE, after=after))
        found.extend(page.items)
        if not page.has_next_page or not page.items:
            return found
        after = page.items[-1].id
