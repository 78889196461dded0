"""apgraph: a governed GraphQL API layer for healthcare accounts payable."""

__version__ = "0.1.0"
