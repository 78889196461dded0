"""The raw-SQL floor for bench/compare_portal.py: the supplier-portal page with no framework.

A bare ASGI app (run by uvicorn, one worker per core like apgraph) over an asyncpg pool:

- `POST /page`: two statements (the page of invoices joined to supplier, PO and cost center;
  then their lines), rows to dicts, `json.dumps`: the least a Python server can do.
- `POST /page_json`: one statement in which PostgreSQL builds the whole JSON (`json_agg`);
  Python only passes the text through.

Both scope rows as apgraph does for a supplier: only the caller's own invoices
(`supplier_id` = the `x-supplier` header, which stands in for the token's claim). The body is
`{"after": "<invoice id>" | null}` (keyset pagination, 50 invoices a page). Settings come from
the environment: BENCH_FLOOR_DSN, BENCH_FLOOR_POOL (connections per worker).

    BENCH_FLOOR_DSN=postgresql://postgres@127.0.0.1:5432/apgraph_perfbench \\
        python -m uvicorn --app-dir bench portal_floor:app --port 8122 --workers 2
"""

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import asyncpg

PAGE_SIZE = 50

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

PAGE = """
SELECT i.id, i.supplier_invoice_number, i.status, i.invoice_date, i.due_date, i.currency,
       i.subtotal, i.tax, i.total,
       s.id AS s_id, s.legal_name AS s_legal_name, s.status AS s_status,
       o.id AS o_id, o.status AS o_status, o.ordered_on AS o_ordered_on,
       c.id AS c_id, c.code AS c_code, c.name AS c_name
FROM invoices i
JOIN suppliers s ON s.id = i.supplier_id
LEFT JOIN purchase_orders o ON o.id = i.purchase_order_id
JOIN cost_centers c ON c.id = i.cost_center_id
WHERE i.supplier_id = $1 AND i.id > $2
ORDER BY i.id
LIMIT $3
"""

LINES = """
SELECT invoice_id, line_no, description, quantity, unit_of_measure, unit_price, amount
FROM invoice_lines WHERE invoice_id = ANY($1) ORDER BY invoice_id, line_no
"""

PAGE_JSON = """
WITH page AS (
  SELECT i.*, row_number() OVER (ORDER BY i.id) AS n
  FROM invoices i WHERE i.supplier_id = $1 AND i.id > $2 ORDER BY i.id LIMIT $3 + 1
)
SELECT json_build_object(
  'edges', coalesce(json_agg(json_build_object(
    'id', p.id, 'supplierInvoiceNumber', p.supplier_invoice_number, 'status', p.status,
    'invoiceDate', p.invoice_date, 'dueDate', p.due_date,
    'subtotal', json_build_object('amount', p.subtotal, 'currency', p.currency),
    'tax', json_build_object('amount', p.tax),
    'total', json_build_object('amount', p.total, 'currency', p.currency),
    'supplier', json_build_object('id', s.id, 'legalName', s.legal_name, 'status', s.status),
    'purchaseOrder', CASE WHEN o.id IS NULL THEN NULL ELSE
      json_build_object('id', o.id, 'status', o.status, 'orderedOn', o.ordered_on) END,
    'costCenter', json_build_object('id', c.id, 'code', c.code, 'name', c.name),
    'lines', (SELECT coalesce(json_agg(json_build_object(
        'lineNo', l.line_no, 'description', l.description, 'quantity', l.quantity,
        'unitOfMeasure', l.unit_of_measure, 'unitPrice', json_build_object('amount', l.unit_price),
        'amount', json_build_object('amount', l.amount)) ORDER BY l.line_no), '[]')
      FROM invoice_lines l WHERE l.invoice_id = p.id)
  ) ORDER BY p.id) FILTER (WHERE p.n <= $3), '[]'),
  'hasNextPage', count(*) > $3)::text
FROM page p
JOIN suppliers s ON s.id = p.supplier_id
LEFT JOIN purchase_orders o ON o.id = p.purchase_order_id
JOIN cost_centers c ON c.id = p.cost_center_id
"""

pool: asyncpg.Pool | None = None


def edge(row: asyncpg.Record, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "supplierInvoiceNumber": row["supplier_invoice_number"],
        "status": row["status"],
        "invoiceDate": row["invoice_date"],
        "dueDate": row["due_date"],
        "subtotal": {"amount": row["subtotal"], "currency": row["currency"]},
        "tax": {"amount": row["tax"]},
        "total": {"amount": row["total"], "currency": row["currency"]},
        "supplier": {
            "id": row["s_id"],
            "legalName": row["s_legal_name"],
            "status": row["s_status"],
        },
        "purchaseOrder": None
        if row["o_id"] is None
        else {"id": row["o_id"], "status": row["o_status"], "orderedOn": row["o_ordered_on"]},
        "costCenter": {"id": row["c_id"], "code": row["c_code"], "name": row["c_name"]},
        "lines": lines,
    }


async def page_python(connection: asyncpg.Connection, supplier: str, after: str) -> bytes:
    rows = await connection.fetch(PAGE, supplier, after, PAGE_SIZE + 1)
    page = rows[:PAGE_SIZE]
    lines: dict[str, list[dict[str, Any]]] = {}
    for line in await connection.fetch(LINES, [row["id"] for row in page]):
        lines.setdefault(line["invoice_id"], []).append(
            {
                "lineNo": line["line_no"],
                "description": line["description"],
                "quantity": line["quantity"],
                "unitOfMeasure": line["unit_of_measure"],
                "unitPrice": {"amount": line["unit_price"]},
                "amount": {"amount": line["amount"]},
            }
        )
    body = {"edges": [edge(row, lines.get(row["id"], [])) for row in page]}
    body["hasNextPage"] = len(rows) > PAGE_SIZE
    return json.dumps(body, default=str).encode()


async def page_sql(connection: asyncpg.Connection, supplier: str, after: str) -> bytes:
    text: str = await connection.fetchval(PAGE_JSON, supplier, after, PAGE_SIZE)
    return text.encode()


async def reply(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    global pool
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                size = int(os.environ.get("BENCH_FLOOR_POOL", "8"))
                pool = await asyncpg.create_pool(
                    os.environ["BENCH_FLOOR_DSN"], min_size=size, max_size=size
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if pool is not None:
                    await pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    assert scope["type"] == "http"
    assert pool is not None
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    headers = dict(scope["headers"])
    supplier = headers.get(b"x-supplier", b"").decode()
    if not supplier:
        await reply(send, 401, b'{"error": "no caller"}')
        return
    after = json.loads(b"".join(chunks) or b"{}").get("after") or ""
    build = {"/page": page_python, "/page_json": page_sql}.get(scope["path"])
    if build is None:
        await reply(send, 404, b'{"error": "not found"}')
        return
    async with pool.acquire() as connection:
        body = await build(connection, supplier, after)
    await reply(send, 200, body)
