#!/usr/bin/env bash
# One A/B leg of `yibao bench settle` on SQLite: a fresh data directory with the demo city, a
# server from CODE_DIR's sources, this repository's driver, the server's CPU per call by role.
#   bench/scripts/ab_settle.sh TAG CODE_DIR [VAR=VALUE ...]     (DUR=20 by default)
# e.g. alternate  ab_settle.sh base1 /path/to/old-checkout ; ab_settle.sh new1 .  (×3, medians)
# SERVER_PYTHONPATH=DIR puts DIR before the server's sources (e.g. a sitecustomize that
# records the collector's passes); the driver never sees it.
set -e
tag=$1; code=$(cd "$2" && pwd); shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PY:-$root/.venv/bin/python}
dir=/tmp/yibao-ab-$tag; rm -rf "$dir"; mkdir -p "$dir"
export YIBAO_DATA_DIR=$dir
for kv in "$@"; do export "$kv"; done
PYTHONPATH=$code/src $PY -m yibao.cli.main init >/dev/null
PYTHONPATH=$code/src $PY -m yibao.cli.main demo >/dev/null 2>&1
PYTHONPATH=${SERVER_PYTHONPATH:+$SERVER_PYTHONPATH:}$code/src $PY -m yibao.cli.main serve > "$dir/serve.log" 2>&1 & echo $! > "$dir/serve.pid"
for _ in $(seq 60); do curl -sf http://127.0.0.1:8000/readyz >/dev/null && break; sleep 1; done
PYTHONPATH=$root/src $PY -m yibao.bench.cpu_per_call --pid "$(cat "$dir/serve.pid")" --json "$dir/s.json" -- \
  env PYTHONPATH="$root/src" $PY -m yibao.cli.main bench settle --duration "${DUR:-20}" \
  --ceiling-seconds 0 --raw-commit-seconds 0 --json "$dir/s.json" > "$dir/bench.out" 2>&1 || true
kill "$(cat "$dir/serve.pid")"; wait "$(cat "$dir/serve.pid")" 2>/dev/null || true
$PY - "$dir" "$tag" <<'PY'
import json, re, sys
d, tag = sys.argv[1], sys.argv[2]
r = json.load(open(f"{d}/s.json"))
t = open(f"{d}/bench.out").read()
roles = re.search(r'"cpu_ms_per_call": \{\s*"analytics": ([\d.]+),\s*"gateway": ([\d.]+)', t)
total = re.search(r'"cpu_ms_per_call_total": ([\d.]+)', t)
print(tag, "calls/s", r["calls_per_s"], "p99", r["latency_ms"]["p99"], "errors", r["errors"],
      "cpu/call", total and total.group(1), "gateway", roles and roles.group(2),
      "analytics", roles and roles.group(1), "load", r["machine"]["load_avg_1m"], "mix_ok", r["mix"]["ok"])
PY
