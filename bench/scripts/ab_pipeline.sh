#!/usr/bin/env bash
# The call pipeline's CPU per call, two checkouts alternated: each round makes a fresh demo
# city per side (init + demo from that side's sources) and plays the same fixed workload
# through that side's CallPipeline in one process (`yibao.bench.pipeline_cpu`, run from this
# checkout's file; `python -P`: its folder not on the path) — no HTTP, no driver process, no
# applier: the work a call costs the gateway, compared on the same minutes of the machine.
# Prints each round (the quiet CPU a call — the lower quartile of its chunks of 50 flows,
# which leaves out the VM's slow bursts — then the whole run's, the calls and the errors)
# and, per side, the median and the minimum of the quiet figure, and B/A.
#   bench/scripts/ab_pipeline.sh CODE_A CODE_B [ROUNDS] [-- pipeline_cpu options]
#   e.g. bench/scripts/ab_pipeline.sh /tmp/base . 5 -- --flows 1500 --persons 1500
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PY:-$root/.venv/bin/python}
code_a=$(cd "$1" && pwd); code_b=$(cd "$2" && pwd); shift 2
rounds=${1:-5}; [ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
tool=$root/src/yibao/bench/pipeline_cpu.py
out=/tmp/yibao-abpipe; rm -rf "$out"; mkdir -p "$out"
one() {  # one SIDE CODE ROUND [pipeline_cpu options]
  local dir=$out/$1-$3 code=$2
  shift 3
  mkdir -p "$dir"
  YIBAO_DATA_DIR=$dir PYTHONPATH=$code/src $PY -m yibao.cli.main init >/dev/null
  YIBAO_DATA_DIR=$dir PYTHONPATH=$code/src $PY -m yibao.cli.main demo >/dev/null 2>&1
  sync  # the demo's writes on disk before the measured run, not written back during it
  YIBAO_DATA_DIR=$dir PYTHONPATH=$code/src $PY -P "$tool" "$dir" "$@" > "$dir.json" || true
  rm -rf "$dir"; sync
  $PY -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['quiet_cpu_ms_per_call'], r['cpu_ms_per_call'], r['calls'], r['errors'])" "$dir.json"
}
for i in $(seq "$rounds"); do
  if [ $((i % 2)) = 1 ]; then a=$(one a "$code_a" "$i" "$@"); b=$(one b "$code_b" "$i" "$@")
  else b=$(one b "$code_b" "$i" "$@"); a=$(one a "$code_a" "$i" "$@"); fi
  echo "round $i: quiet A ${a%% *} B ${b%% *} ms/call   (all, calls, errors: A ${a#* }; B ${b#* })"
  echo "${a%% *} ${b%% *}" >> "$out/pairs"
done
$PY - "$out/pairs" <<'PY'
import statistics, sys
pairs = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
a = [p[0] for p in pairs]; b = [p[1] for p in pairs]
print(f"A median {statistics.median(a):.4f} min {min(a):.4f} ms/call; "
      f"B median {statistics.median(b):.4f} min {min(b):.4f} ms/call; "
      f"B/A medians {statistics.median(b) / statistics.median(a):.3f}, "
      f"mins {min(b) / min(a):.3f}, pairs {statistics.median([y / x for x, y in pairs]):.3f}")
PY
