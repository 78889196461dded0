#!/usr/bin/env bash
# Seeds a PostgreSQL database with the demo network, starts apgraph on it (loopback),
# and runs bench/portal_page.py. Usage: bench/run_portal_page.sh [--clients 8 --seconds 15]
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${BENCH_DB:-apgraph_bench}
PORT=${BENCH_PORT:-8100}
PY=.venv/bin/python
export APGRAPH_DATA_DIR="${BENCH_DATA_DIR:-/tmp/apgraph-bench-data}"
export APGRAPH_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/$DB"

psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB"
if [ "${BENCH_RESEED:-0}" = 1 ] || ! psql -h 127.0.0.1 -U postgres -d "$DB" -tAc "SELECT 1 FROM invoices LIMIT 1" 2>/dev/null | grep -q 1; then
  .venv/bin/apgraph seed --replace --scale "${BENCH_SCALE:-1}" >/dev/null
fi

APGRAPH_ENVIRONMENT=production APGRAPH_EXPOSE_SQL_STATEMENTS=true \
  .venv/bin/apgraph serve --port "$PORT" --no-demo-data --workers "${BENCH_WORKERS:-1}" >/tmp/apgraph-bench-server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.5
done

# The portal page as its real caller sees it: the busiest supplier's own user, row-scoped.
SUPPLIER=$(psql -h 127.0.0.1 -U postgres -d "$DB" -tAc \
  "SELECT supplier_id FROM invoices GROUP BY supplier_id ORDER BY count(*) DESC, supplier_id LIMIT 1")
TOKEN=$(.venv/bin/apgraph token --role supplier --supplier "$SUPPLIER" 2>/dev/null)

$PY bench/portal_page.py --url "http://127.0.0.1:$PORT/graphql" \
  --dsn "postgresql://postgres@127.0.0.1:5432/$DB" --token "$TOKEN" --server-pid "$SERVER" "$@"
