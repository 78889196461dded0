"""The Starlette app and composition root: wires settings, store, schema and routes."""
