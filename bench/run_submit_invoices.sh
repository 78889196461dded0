#!/usr/bin/env bash
# Reseeds a PostgreSQL database, starts apgraph on it (in-process zero-latency simulators),
# and runs bench/submit_invoices.py. Usage: bench/run_submit_invoices.sh [--invoices 400 --clients 8]
# BENCH_WORKERS=2 serves with two worker processes (one per core). BENCH_RESEED=0 keeps the
# database as the last run left it (its start-up backlog already worked off, see --no-settle);
# BENCH_SCALE=2 seeds a larger network (more clean PO lines to bill).
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${BENCH_DB:-apgraph_bench_submit}
PORT=${BENCH_PORT:-8103}
PY=.venv/bin/python  # `-m apgraph.cli` from the repository root: this checkout's code
export APGRAPH_DATA_DIR="${BENCH_DATA_DIR:-/tmp/apgraph-bench-data}"
export APGRAPH_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/$DB"

psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB"
if [ "${BENCH_RESEED:-1}" = 1 ]; then
  "$PY" -m apgraph.cli seed --replace --scale "${BENCH_SCALE:-1}" >/dev/null
fi

APGRAPH_ENVIRONMENT=production "$PY" -m apgraph.cli serve --port "$PORT" --no-demo-data --workers "${BENCH_WORKERS:-1}" \
  >/tmp/apgraph-bench-submit.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  kill -0 $SERVER 2>/dev/null || { cat /tmp/apgraph-bench-submit.log >&2; exit 1; }
  sleep 0.5
done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "apgraph did not start" >&2; exit 1; }

"$PY" bench/submit_invoices.py --url "http://127.0.0.1:$PORT/products/supplier-portal/v1/graphql" \
  --dsn "postgresql://postgres@127.0.0.1:5432/$DB" --data-dir "$APGRAPH_DATA_DIR" --server-pid "$SERVER" "$@"
