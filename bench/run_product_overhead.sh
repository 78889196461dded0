#!/usr/bin/env bash
# Seeds a PostgreSQL database with the demo network, starts apgraph on it (loopback) with
# supplier-portal budgets too large to refuse, and runs bench/product_overhead.py: first with
# rate limits in memory, then in Redis (127.0.0.1:6379). Usage:
#   bench/run_product_overhead.sh [--clients 8 --seconds 10 --rounds 3]
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${BENCH_DB:-apgraph_bench}
PORT=${BENCH_PORT:-8100}
PY=${BENCH_PYTHON:-.venv/bin/python}
export APGRAPH_DATA_DIR="${BENCH_DATA_DIR:-/tmp/apgraph-bench-data}"
export APGRAPH_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/$DB"
CONFIG=$(mktemp -d)/gateway.yaml

psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB"
if [ "${BENCH_RESEED:-0}" = 1 ] || ! psql -h 127.0.0.1 -U postgres -d "$DB" -tAc "SELECT 1 FROM invoices LIMIT 1" 2>/dev/null | grep -q 1; then
  $PY -m apgraph seed --replace --scale "${BENCH_SCALE:-1}" >/dev/null
fi
$PY - "$CONFIG" <<'PYTHON'
import sys, yaml
from apgraph.settings import shipped_gateway_config
raw = yaml.safe_load(shipped_gateway_config().read_text())
raw["products"]["supplier-portal"]["limits"].update(
    requests_per_minute=10**9, cost_per_minute=10**12, max_cost=10**6
)
raw["internal_schema"] = {"scope": None}  # the baseline: the supplier's page on /graphql
open(sys.argv[1], "w").write(yaml.safe_dump(raw))
PYTHON

SUPPLIER=$(psql -h 127.0.0.1 -U postgres -d "$DB" -tAc \
  "SELECT supplier_id FROM invoices GROUP BY supplier_id ORDER BY count(*) DESC, supplier_id LIMIT 1")
TOKEN=$($PY -m apgraph token --role supplier --supplier "$SUPPLIER" 2>/dev/null)

run() {  # $1: label; the rest: environment for the server
  local label=$1; shift
  env "$@" APGRAPH_ENVIRONMENT=production APGRAPH_GATEWAY_CONFIG="$CONFIG" \
    APGRAPH_RELAY_INTERVAL_SECONDS=0 APGRAPH_REMATCH_INTERVAL_SECONDS=0 \
    $PY -m apgraph serve --port "$PORT" --no-demo-data >/tmp/apgraph-bench-server.log 2>&1 &
  SERVER=$!
  trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
  for _ in $(seq 1 60); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
    sleep 0.5
  done
  echo "== rate limits $label"
  $PY bench/product_overhead.py --base "http://127.0.0.1:$PORT" --token "$TOKEN" \
    --supplier "$SUPPLIER" "${ARGS[@]}"
  kill $SERVER; wait $SERVER 2>/dev/null || true
}

ARGS=("$@")
run "in memory" BENCH_REDIS=none
run "in Redis" APGRAPH_REDIS_URL=redis://127.0.0.1:6379 APGRAPH_REDIS_KEY_PREFIX="apgraph-bench-$$"
