"""Strawberry types, inputs and enums: the GraphQL shape of the domain, one module per domain."""
