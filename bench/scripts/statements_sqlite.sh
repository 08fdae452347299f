#!/usr/bin/env bash
# SQL statements per call on SQLite, by thread and by statement: the gateway process counts
# every statement its SQLite connections run (bench/scripts/sqlite_trace, a trace callback)
# around a `yibao bench settle` of DUR seconds (10 by default) on a fresh demo city.
#   bench/scripts/statements_sqlite.sh CODE_DIR [TOP]
set -e
code=$(cd "$1" && pwd); top=${2:-25}
root=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PY:-$root/.venv/bin/python}
dir=/tmp/yibao-statements; rm -rf "$dir"; mkdir -p "$dir"
export YIBAO_DATA_DIR=$dir
PYTHONPATH=$code/src $PY -m yibao.cli.main init >/dev/null
PYTHONPATH=$code/src $PY -m yibao.cli.main demo >/dev/null 2>&1
YIBAO_TRACE_OUT=$dir/trace PYTHONPATH=$code/src:$root/bench/scripts/sqlite_trace \
  $PY -m yibao.cli.main serve > "$dir/serve.log" 2>&1 & sp=$!
for _ in $(seq 60); do curl -sf http://127.0.0.1:8000/readyz >/dev/null && break; sleep 1; done
sleep 1
gw=$(pgrep -f "role gateway" | head -1)
kill -USR1 "$gw"; sleep 1; mv "$dir/trace.$gw" "$dir/before.json"
PYTHONPATH=$root/src $PY -m yibao.cli.main bench settle --duration "${DUR:-10}" \
  --ceiling-seconds 0 --raw-commit-seconds 0 --json "$dir/s.json" > "$dir/bench.out" 2>&1 || true
kill -USR1 "$gw"; sleep 2; mv "$dir/trace.$gw" "$dir/after.json"
kill $sp; wait $sp 2>/dev/null || true
$PY - "$dir" "$top" <<'PY'
import collections, json, sys
d, top = sys.argv[1], int(sys.argv[2])
calls = json.load(open(f"{d}/s.json"))["calls"]
before = {(k, t): n for k, t, n in json.load(open(f"{d}/before.json"))}
delta = collections.Counter()
for k, t, n in json.load(open(f"{d}/after.json")):
    delta[(k, t)] = n - before.get((k, t), 0)
by_kind = collections.Counter()
for (k, _t), n in delta.items():
    by_kind[k] += n
print(f"calls {calls}; statements a call {sum(by_kind.values()) / calls:.2f}:",
      ", ".join(f"{k} {n / calls:.2f}" for k, n in by_kind.most_common()))
for (k, t), n in delta.most_common(top):
    print(f"{n / calls:6.3f}  {k:10}  {t}")
PY
