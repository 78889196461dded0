#!/usr/bin/env bash
# Instructions per submitInvoice → POSTED, counted by callgrind over the measured submissions
# only (start-up and warm-up uninstrumented): repeatable where timings are not. Reseeds the
# database (a submission needs clean PO lines), then runs bench/submit_profile.py in one
# process with the background loops off, on the in-process simulators: a submission's own
# work (GraphQL, the unit of work, the connector calls and the simulators answering them).
# Usage: bash bench/submit_instructions.sh [submissions=40] ; BENCH_DB=apgraph_perfbench_submit.
# Needs valgrind (Debian's package). Takes several minutes: start-up runs under valgrind too.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-40}
DB=${BENCH_DB:-apgraph_perfbench_submit}
. bench/callgrind.sh
quiet_production "$DB" "${BENCH_DATA_DIR:-/tmp/apgraph-bench-data}"
.venv/bin/python -m apgraph.cli seed --replace >/dev/null
OUT=$(mktemp -d)
COLLECTED=$(instructions "$OUT" bench.submit_profile --invoices "$COUNT" --warmup 5)
grep -E "submissions one after|round trips" "$OUT/run.log"
echo "$COUNT submissions: $((COLLECTED / COUNT)) instructions per submission (ASGI client included, tokens signed before; $OUT)"
