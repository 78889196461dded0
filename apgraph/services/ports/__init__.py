"""What services need from the outside world, as Protocols, plus the value types they pass.

One module per capability, so each layer imports only the ports it needs (tests/test_layering.py):
- `reads`: pages, filters and one reader Protocol per aggregate;
- `clock`: the one source of the current time;
- `connectors`: the external systems' capabilities (DESIGN §6) and their errors;
- `unit_of_work`: the write side (unit of work, writers, outbox, idempotency keys);
- `workflow`: what the composition root hands the invoice workflow's services;
- `master_data`: master-data import and export;
- `bus`: the event bus and the live feed subscriptions follow;
- `figures`: the business figures metrics report;
- `keys`: the key-encryption key that wraps the data keys sealing classified columns.
"""
