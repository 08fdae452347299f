#!/usr/bin/env bash
# A paired A/B of `yibao bench settle` on SQLite that a drifting machine cannot fool: two
# servers run side by side (A on port 8001, B on 8002, each with a fresh demo city), and the
# driver alternates short legs between them in ABBA order, so that both sides see the same
# minutes of the machine. Prints each pair's ratio B/A of calls/s and of the server's CPU a
# call (read from /proc around the leg, `yibao.bench.cpu_per_call`) and the medians of both.
#
#   bench/scripts/ab_paired.sh CODE_A CODE_B [PAIRS] [-- A_VAR=… …] [-- B_VAR=… …]
#   e.g. review on (A) against review off (B), 12 pairs of 6 s legs:
#   LEG=6 bench/scripts/ab_paired.sh . . 12 -- -- YIBAO_REVIEW=off
#   on MariaDB with two gateways a side (create the two databases first):
#   bench/scripts/ab_paired.sh OLD . 10 -- YIBAO_DATABASE_URL=mysql+pymysql://root@127.0.0.1:3306/a \
#     YIBAO_WORKERS=2 -- YIBAO_DATABASE_URL=mysql+pymysql://root@127.0.0.1:3306/b YIBAO_WORKERS=2
#
# LEG (seconds, default 6) and PERSONS (enrolled per leg, default 800) tune the legs; the
# servers' logs and each leg's JSON stay in /tmp/yibao-pair-{a,b}. PY_A / PY_B run each side's
# server on another interpreter than PY (the driver's), e.g. two builds of CPython on one code:
#   PY_A=/path/to/pyenv-venv/bin/python bench/scripts/ab_paired.sh . . 12
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PY:-$root/.venv/bin/python}
code_a=$(cd "$1" && pwd); code_b=$(cd "$2" && pwd); shift 2
pairs=${1:-10}; [ $# -gt 0 ] && shift
vars_a=(); vars_b=(); side=none
for kv in "$@"; do
  if [ "$kv" = "--" ]; then [ $side = none ] && side=a || side=b; continue; fi
  if [ $side = a ]; then vars_a+=("$kv"); else vars_b+=("$kv"); fi
done
start() {  # start SIDE CODE PORT VARS…
  local side=$1 code=$2 port=$3; shift 3
  local py=$PY
  [ "$side" = a ] && py=${PY_A:-$PY}
  [ "$side" = b ] && py=${PY_B:-$PY}
  local dir=/tmp/yibao-pair-$side; rm -rf "$dir"; mkdir -p "$dir"
  printf '%s\n' "$@" > "$dir/vars"  # the legs' driver reads the same store (YIBAO_DATABASE_URL …)
  (
    export YIBAO_DATA_DIR=$dir YIBAO_PORT=$port
    for kv in "$@"; do export "$kv"; done
    PYTHONPATH=$code/src $py -m yibao.cli.main init >/dev/null
    PYTHONPATH=$code/src $py -m yibao.cli.main demo >/dev/null 2>&1
    PYTHONPATH=$code/src exec $py -m yibao.cli.main serve > "$dir/serve.log" 2>&1
  ) &
  echo $! > "$dir/serve.pid"
}
stop() { kill "$(cat /tmp/yibao-pair-a/serve.pid)" "$(cat /tmp/yibao-pair-b/serve.pid)" 2>/dev/null || true; wait; }
trap stop EXIT
start a "$code_a" 8001 "${vars_a[@]}"
start b "$code_b" 8002 "${vars_b[@]}"
for port in 8001 8002; do
  for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 1; done
done
leg() {  # leg SIDE PORT N
  local dir=/tmp/yibao-pair-$1
  (
    while IFS= read -r kv; do [ -n "$kv" ] && export "$kv"; done < "$dir/vars"
    # the leg's server CPU a call, read from /proc around it (yibao.bench.cpu_per_call)
    PYTHONPATH=$root/src $PY -m yibao.bench.cpu_per_call --pid "$(cat "$dir/serve.pid")" \
      --json "$dir/leg-$3.json" -- env PYTHONPATH="$root/src" \
      $PY -m yibao.cli.main bench settle --url "http://127.0.0.1:$2" \
      --duration "${LEG:-6}" --persons "${PERSONS:-800}" --ceiling-seconds 0 \
      --raw-commit-seconds 0 --data-dir "$dir" --json "$dir/leg-$3.json" > "$dir/leg-$3.out" 2>&1 || true
  )
}
for i in $(seq "$pairs"); do
  if [ $((i % 2)) = 1 ]; then leg a 8001 "$i"; leg b 8002 "$i"; else leg b 8002 "$i"; leg a 8001 "$i"; fi
done
$PY - "$pairs" <<'PY'
import json, statistics, sys
pairs = int(sys.argv[1])
import re
def rate(side, i):
    r = json.load(open(f"/tmp/yibao-pair-{side}/leg-{i}.json"))
    assert r["errors"] == 0 and r["mix"]["ok"], (side, i, r["errors"], r["mix"])
    out = open(f"/tmp/yibao-pair-{side}/leg-{i}.out").read()
    found = re.search(r'"cpu_ms_per_call_total": ([\d.]+)', out)
    return r["calls_per_s"], r["latency_ms"]["p99"], float(found[1]) if found else float("nan")
rows = [(rate("a", i), rate("b", i)) for i in range(1, pairs + 1)]
ratios = [b[0] / a[0] for a, b in rows]
cpu = [b[2] / a[2] for a, b in rows]
for i, ((a, pa, ca), (b, pb, cb)) in enumerate(rows, 1):
    print(f"pair {i:2d}: A {a:7.1f} calls/s (p99 {pa:6.1f}, {ca:.3f} ms a call) "
          f"B {b:7.1f} (p99 {pb:6.1f}, {cb:.3f} ms)  B/A {b / a:.3f}, CPU {cb / ca:.3f}")
def spread(values):
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{statistics.median(values):.3f} (quartiles {q[0]:.3f} … {q[2]:.3f})"
print(f"median B/A {spread(ratios)}; "
      f"A median {statistics.median(a for (a, _, _), _b in rows):.1f}, "
      f"B median {statistics.median(b for _a, (b, _, _) in rows):.1f} calls/s")
print(f"server CPU a call, median B/A {spread(cpu)}; "
      f"A median {statistics.median(c for (_, _, c), _b in rows):.3f}, "
      f"B median {statistics.median(c for _a, (_, _, c) in rows):.3f} ms")
PY
