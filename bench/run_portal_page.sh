#!/usr/bin/env bash
# Seeds a PostgreSQL database with the demo network, starts apgraph on it (loopback),
# and runs bench/portal_page.py. Usage: bench/run_portal_page.sh [--clients 8 --seconds 15]
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${BENCH_DB:-apgraph_bench}
PORT=${BENCH_PORT:-8100}
PY=.venv/bin/python  # `-m apgraph.cli` from the repository root: this checkout's code, not
                     # whichever checkout the venv's `apgraph` script was installed from
export APGRAPH_DATA_DIR="${BENCH_DATA_DIR:-/tmp/apgraph-bench-data}"
export APGRAPH_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/$DB"

psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB"
if [ "${BENCH_RESEED:-0}" = 1 ] || ! psql -h 127.0.0.1 -U postgres -d "$DB" -tAc "SELECT 1 FROM invoices LIMIT 1" 2>/dev/null | grep -q 1; then
  "$PY" -m apgraph.cli seed --replace --scale "${BENCH_SCALE:-1}" >/dev/null
fi

# The shipped gateway.yaml with the portal's per-minute budgets raised (bench/unthrottled.py):
# with the shipped ones one supplier's token is refused (429) after about 30 pages a minute.
CONFIG=$("$PY" -c 'import sys, tempfile; from pathlib import Path
from bench.unthrottled import unthrottled_gateway_config
print(unthrottled_gateway_config(Path(tempfile.mkdtemp(prefix="apgraph-bench-"))))')
APGRAPH_ENVIRONMENT=production APGRAPH_EXPOSE_SQL_STATEMENTS=true APGRAPH_GATEWAY_CONFIG="$CONFIG" \
  "$PY" -m apgraph.cli serve --port "$PORT" --no-demo-data --workers "${BENCH_WORKERS:-1}" >/tmp/apgraph-bench-server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
# Start-up takes seconds on an idle machine and can take a minute on a busy shared one.
for _ in $(seq 1 240); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  kill -0 $SERVER 2>/dev/null || { cat /tmp/apgraph-bench-server.log >&2; exit 1; }
  sleep 0.5
done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "apgraph did not start" >&2; exit 1; }

# The portal page as its real caller sees it: the busiest supplier's own user, row-scoped.
SUPPLIER=$(psql -h 127.0.0.1 -U postgres -d "$DB" -tAc \
  "SELECT supplier_id FROM invoices GROUP BY supplier_id ORDER BY count(*) DESC, supplier_id LIMIT 1")
TOKEN=$("$PY" -m apgraph.cli token --role supplier --supplier "$SUPPLIER" 2>/dev/null)

$PY bench/portal_page.py --url "http://127.0.0.1:$PORT/products/supplier-portal/v1/graphql" \
  --dsn "postgresql://postgres@127.0.0.1:5432/$DB" --token "$TOKEN" --server-pid "$SERVER" "$@"
