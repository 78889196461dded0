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
. bench/callgrind.sh
quiet_production "$DB" "${BENCH_DATA_DIR:-/tmp/apgraph-perfbench-data}"
TOKEN=$(.venv/bin/python -m apgraph.cli token --role supplier --supplier SUP-000001 2>/dev/null | tail -1)
OUT=$(mktemp -d)
COLLECTED=$(instructions "$OUT" bench.portal_cpu --token "$TOKEN" --pages "$PAGES")
echo "$PAGES pages: $((COLLECTED / PAGES)) instructions per page (ASGI client included; $OUT)"
