"""Benchmark: one ERP posting through the whole connector stack against zero-latency simulators.

Starts the five simulators on a loopback port, builds the connectors exactly as a server in
`connectors.mode: remote` would (composition root, resilience wrapper, posting ledger in a
SQLite file, vendor links synced), then posts N fresh invoices one after another to each ERP
and prints p50 / p99 / mean per posting. The simulators add no latency, so the numbers are
apgraph's own cost plus loopback HTTP: SOAP or JSON, OAuth2, two ledger writes per posting.

    .venv/bin/python bench/connector_posting.py --postings 200
"""

import argparse
import asyncio
import socket
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import uvicorn

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.domain.ids import EntityKind, FacilityId, InvoiceId, numbered
from apgraph.domain.suppliers import SupplierStatus
from apgraph.gateway.connectors import build_connectors, standalone_simulators
from apgraph.gateway.runtime import utc_now
from apgraph.policies.loader import load_gateway_config
from apgraph.settings import Settings
from apgraph.store import migrate
from apgraph.store.database import create_engine
from tests.keys import keyring_for

ROOT = Path(__file__).resolve().parent.parent
SCALE = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def main(postings: int) -> None:
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="apgraph-bench-"))
    text = (ROOT / "gateway.yaml").read_text().replace("mode: simulated", "mode: remote")
    (work / "gateway.yaml").write_text(text.replace("127.0.0.1:8100", f"127.0.0.1:{port}"))
    settings = Settings(
        data_dir=work,
        gateway_config=work / "gateway.yaml",
        demo_scale=SCALE,
        cloud_erp_client_secret="bench-secret",
    )
    config = load_gateway_config(settings.gateway_config)
    simulators, _ = standalone_simulators(settings, config)
    server = uvicorn.Server(
        uvicorn.Config(simulators.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit("the simulators did not start")
        await asyncio.sleep(0.01)

    engine = create_engine(settings.resolved_database_url)
    await migrate.upgrade(engine)
    network = generator.generate(generator.DemoSize().scaled(SCALE))
    await demo_writer.write(engine, network, keyring=await keyring_for(engine))
    connectors = build_connectors(settings, config, engine, now=utc_now)
    await connectors.link_suppliers(engine, await keyring_for(engine))
    active = {s.id for s in network.suppliers if s.status is SupplierStatus.ACTIVE}
    template = next(i for i in network.invoices if i.supplier_id in active)
    try:
        routes = (("FAC-0001", "legacy ERP (SOAP)"), ("FAC-0004", "cloud ERP (REST)"))
        for facility, label in routes:
            took = []
            for n in range(postings):
                invoice = replace(
                    template,
                    id=InvoiceId(numbered(EntityKind.INVOICE, 80_000_000 + n)),
                    supplier_invoice_number=f"B-{uuid.uuid4().hex[:12]}",
                    facility_id=FacilityId(facility),
                )
                start = time.perf_counter()
                await connectors.erp.post_invoice(invoice, idempotency_key=str(uuid.uuid4()))
                took.append((time.perf_counter() - start) * 1000)
            took.sort()
            print(
                f"{label:18} {postings} postings  p50 {statistics.median(took):6.2f} ms  "
                f"p99 {took[int(len(took) * 0.99) - 1]:6.2f} ms  "
                f"mean {statistics.fmean(took):6.2f} ms"
            )
    finally:
        await connectors.aclose()
        await engine.dispose()
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=200)
    asyncio.run(main(parser.parse_args().postings))
