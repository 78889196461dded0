"""The operations dashboard: a static page shipped in the package, reading the GraphQL API."""
