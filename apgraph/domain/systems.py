"""The external systems apgraph calls, the two ERPs among them: one name for each, everywhere.

The value names a system in gateway.yaml's `connectors`, in metrics, in stored rows and in
connector errors; the API shows the member names (`ConnectorSystem`). Operators name an ERP
by its short name, `legacy` or `cloud`, where only an ERP can stand: a facility's `erp` in
gateway.yaml and master-data bundles. `erp_named` reads both spellings there, and `erp_name`
writes the short one, so files written before the two enums were one still read the same.
"""

from enum import Enum


class ExternalSystem(Enum):
    """The systems apgraph calls; the value names the system in config, metrics and the API."""

    LEGACY_ERP = "legacy_erp"
    """The on-premises ERP (SOAP/XML): posts invoices of legacy and shadow facilities."""
    CLOUD_ERP = "cloud_erp"
    """The cloud ERP (REST, OAuth2): posts invoices of migrated facilities."""
    MATERIALS = "materials"
    """Materials management: goods receipts for the three-way match."""
    SOURCING = "sourcing"
    """The contract repository: contract prices for the price check."""
    ANALYTICS = "analytics"
    """The analytics platform: receives the cash-flow forecast feed."""

    @property
    def is_erp(self) -> bool:
        return self in ERPS

    @property
    def family(self) -> str:
        """The prefix of this system's error codes: both ERPs answer as ERP_*."""
        return "ERP" if self.is_erp else self.name

    @property
    def erp_name(self) -> str:
        """An ERP's short name, as operators write it: `legacy`, `cloud`."""
        return _ERP_NAMES[self]

    @classmethod
    def erp_named(cls, name: str) -> "ExternalSystem":
        """The ERP an operator names, by its short name or its system name (`legacy`,
        `legacy_erp`). Raises ValueError naming the accepted names for anything else."""
        for system, short in _ERP_NAMES.items():
            if name in (short, system.value):
                return system
        raise ValueError(f"{name!r} is not an ERP: write {' or '.join(_ERP_NAMES.values())}")


ERPS = (ExternalSystem.LEGACY_ERP, ExternalSystem.CLOUD_ERP)
_ERP_NAMES = {ExternalSystem.LEGACY_ERP: "legacy", ExternalSystem.CLOUD_ERP: "cloud"}
