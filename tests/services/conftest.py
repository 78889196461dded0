"""The loopback simulators, for the services that talk to connectors."""

from tests.connectors.conftest import ledger_engine, no_faults, served  # noqa: F401
