#!/usr/bin/env bash
# Reseeds a PostgreSQL database, starts apgraph on it (in-process zero-latency simulators),
# and runs bench/submit_invoices.py. Usage: bench/run_submit_invoices.sh [--invoices 400 --clients 8]
# BENCH_WORKERS=2 serves with two worker processes (one per core). BENCH_RESEED=0 keeps the
# database as the last run left it (its start-up backlog already worked off, see --no-settle);
# BENCH_SCALE=2 seeds a larger network (more clean PO lines to bill).
# BENCH_SIMULATORS=process runs the simulators in a process of their own (`apgraph simulators
# serve`, connectors.mode remote; bench/remote_simulators.py) instead of inside the server:
# the server's CPU per submission is then apgraph's own, and the simulators' is printed apart.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${BENCH_DB:-apgraph_bench_submit}
PORT=${BENCH_PORT:-8103}
SIMULATORS_PORT=${BENCH_SIMULATORS_PORT:-8104}
PY=.venv/bin/python  # `-m apgraph.cli` from the repository root: this checkout's code
export APGRAPH_DATA_DIR="${BENCH_DATA_DIR:-/tmp/apgraph-bench-data}"
export APGRAPH_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/$DB"
export APGRAPH_DEMO_SCALE="${BENCH_SCALE:-1}"  # the simulators' books: the network seeded
PIDS=()
trap 'for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done' EXIT

ready() {  # ready URL PID LOG: waits until URL answers, or fails with PID's log
  for _ in $(seq 1 240); do
    curl -sf "$1" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; exit 1; }
    sleep 0.5
  done
  echo "$1 did not answer" >&2
  exit 1
}

EXTRA=()
if [ "${BENCH_SIMULATORS:-in-process}" = process ]; then
  export APGRAPH_CLOUD_ERP_CLIENT_SECRET="bench-$$-$RANDOM$RANDOM"
  APGRAPH_GATEWAY_CONFIG=$("$PY" -c 'import sys, tempfile; from pathlib import Path
from bench.remote_simulators import remote_simulators_config
print(remote_simulators_config(Path(tempfile.mkdtemp(prefix="apgraph-bench-")), port=int(sys.argv[1])))' "$SIMULATORS_PORT")
  export APGRAPH_GATEWAY_CONFIG
  "$PY" -m apgraph.cli simulators serve --port "$SIMULATORS_PORT" >/tmp/apgraph-bench-simulators.log 2>&1 &
  PIDS+=($!)
  EXTRA+=(--simulators-pid "$!")
  ready "http://127.0.0.1:$SIMULATORS_PORT/materials/api/health" "$!" /tmp/apgraph-bench-simulators.log
fi

psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB"
if [ "${BENCH_RESEED:-1}" = 1 ]; then
  "$PY" -m apgraph.cli seed --replace --scale "${BENCH_SCALE:-1}" >/dev/null
  # `seed --replace` deletes the rows it replaces; where autovacuum is off (as on the machines
  # these benchmarks ran on), their dead versions stayed in every table and index run after
  # run, and each run read through more of them. Vacuumed as autovacuum would in production.
  psql -h 127.0.0.1 -U postgres -d "$DB" -qc "VACUUM (ANALYZE)"
fi
if [ "${BENCH_SIMULATORS:-in-process}" = process ]; then
  # the server links suppliers to ERP vendors itself only with in-process simulators
  "$PY" -m apgraph.cli connectors sync-suppliers >/dev/null
fi

APGRAPH_ENVIRONMENT=production "$PY" -m apgraph.cli serve --port "$PORT" --no-demo-data --workers "${BENCH_WORKERS:-1}" \
  >/tmp/apgraph-bench-submit.log 2>&1 &
SERVER=$!
PIDS=("$SERVER" "${PIDS[@]}")  # the server stops before its simulators
ready "http://127.0.0.1:$PORT/healthz" "$SERVER" /tmp/apgraph-bench-submit.log

"$PY" -m bench.submit_invoices --url "http://127.0.0.1:$PORT/products/supplier-portal/v1/graphql" \
  --dsn "postgresql://postgres@127.0.0.1:5432/$DB" --data-dir "$APGRAPH_DATA_DIR" --server-pid "$SERVER" \
  ${EXTRA[@]+"${EXTRA[@]}"} "$@"
