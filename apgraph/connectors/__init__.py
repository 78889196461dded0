"""Adapters to the external systems of DESIGN §6; the interfaces they implement are in
`apgraph.services.ports`."""
