# Sourced by bench/portal_instructions.sh and bench/submit_instructions.sh: what both need to
# count a benchmark's instructions with callgrind (run from the repository root).

# quiet_production DB DATA_DIR: the server's settings, on PostgreSQL database DB, with every
# background loop off, so that only the measured work runs.
quiet_production() {
  export APGRAPH_DATA_DIR="$2"
  export APGRAPH_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/$1"
  export APGRAPH_ENVIRONMENT=production
  for loop in RELAY WEBHOOK REMATCH POSTING_RECOVERY ESCALATION SCHEDULING RESEAL RETENTION; do
    export "APGRAPH_${loop}_INTERVAL_SECONDS=0"
  done
}

# instructions OUT MODULE ARGS...: runs `python -m MODULE ARGS... --callgrind` under callgrind
# with instrumentation off at start (the module turns it on around what it measures), its
# output in OUT/run.log; prints the instructions collected, or the log and fails.
instructions() {
  local out=$1
  shift
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.out" \
    .venv/bin/python -m "$@" --callgrind >"$out/run.log" 2>&1 || { cat "$out/run.log" >&2; return 1; }
  grep -oP 'Collected : \K[0-9]+' "$out/run.log"
}
