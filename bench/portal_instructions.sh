#!/usr/bin/env bash
# Instructions per portal page, counted by callgrind over the measured pages only (start-up
# and warm-up uninstrumented): repeatable where timings are not (this machine's speed moves
# by up to 40 % from minute to minute). Runs bench/portal_cpu.py in one process, background
# loops off, on a seeded database (bench/compare_portal.py seeds apgraph_perfbench).
# Usage: bash bench/portal_instructions.sh [pages=100] ; BENCH_DB=apgraph_perfbench.
# Needs valgrind (Debian's package). Takes several minutes: start-up runs under valgrind too.
set -euo pipefail
cd "$(dirname "$0")/.."
PAGES=${1:-100}
DB=${BENCH_DB:-apgraph_perfbench}
export APGRAPH_DATA_DIR="${BENCH_DATA_DIR:-/tmp/apgraph-perfbench-data}"
export APGRAPH_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/$DB"
export APGRAPH_ENVIRONMENT=production
for loop in RELAY WEBHOOK REMATCH POSTING_RECOVERY ESCALATION SCHEDULING RESEAL RETENTION; do
  export "APGRAPH_${loop}_INTERVAL_SECONDS=0"
done
TOKEN=$(.venv/bin/python -m apgraph.cli token --role supplier --supplier SUP-000001 2>/dev/null | tail -1)
OUT=$(mktemp -d)
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out" \
  .venv/bin/python -m bench.portal_cpu --token "$TOKEN" --pages "$PAGES" --callgrind \
  >"$OUT/run.log" 2>&1 || { cat "$OUT/run.log" >&2; exit 1; }
COLLECTED=$(grep -oP 'Collected : \K[0-9]+' "$OUT/run.log")
echo "$PAGES pages: $((COLLECTED / PAGES)) instructions per page (ASGI client included; $OUT)"
