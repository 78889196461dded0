"""The relay delivers to the analytics simulator on loopback: reuse the connectors' fixtures."""

from tests.connectors.conftest import ledger_engine, no_faults, served, stack

__all__ = ["ledger_engine", "no_faults", "served", "stack"]
