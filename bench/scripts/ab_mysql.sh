#!/usr/bin/env bash
# One leg of `yibao bench settle` against `yibao serve --workers N` on MariaDB: a fresh database
# with the demo city, MariaDB's own CPU per call from /proc beside the server's.
#   bench/scripts/ab_mysql.sh TAG CODE_DIR WORKERS [VAR=VALUE ...]   (root@127.0.0.1, no password)
set -e
tag=$1; code=$(cd "$2" && pwd); workers=$3; shift 3
root=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PY:-$root/.venv/bin/python}
dir=/tmp/yibao-abm-$tag; rm -rf "$dir"; mkdir -p "$dir"
db=yibao_ab_$tag
mysql -uroot -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
export YIBAO_DATA_DIR=$dir YIBAO_DATABASE_URL="mysql+pymysql://root@127.0.0.1:3306/$db"
for kv in "$@"; do export "$kv"; done
PYTHONPATH=$code/src $PY -m yibao.cli.main init >/dev/null
PYTHONPATH=$code/src $PY -m yibao.cli.main demo >/dev/null 2>&1
PYTHONPATH=$code/src $PY -m yibao.cli.main serve --workers "$workers" > "$dir/serve.log" 2>&1 & echo $! > "$dir/serve.pid"
for _ in $(seq 90); do curl -sf http://127.0.0.1:8000/readyz >/dev/null && break; sleep 1; done
mpid=$(pgrep -x mariadbd | head -1)
m0=$(awk '{print $14+$15}' "/proc/$mpid/stat")
PYTHONPATH=$root/src $PY -m yibao.bench.cpu_per_call --pid "$(cat "$dir/serve.pid")" --json "$dir/s.json" -- \
  env PYTHONPATH="$root/src" $PY -m yibao.cli.main bench settle --duration "${DUR:-20}" \
  --ceiling-seconds 0 --raw-commit-seconds 0 --json "$dir/s.json" > "$dir/bench.out" 2>&1 || true
m1=$(awk '{print $14+$15}' "/proc/$mpid/stat")
kill "$(cat "$dir/serve.pid")"; wait "$(cat "$dir/serve.pid")" 2>/dev/null || true
mysql -uroot -e "DROP DATABASE IF EXISTS $db"
$PY - "$dir" "$tag" "$m0" "$m1" <<'PY'
import json, os, re, sys
d, tag, m0, m1 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
r = json.load(open(f"{d}/s.json"))
t = open(f"{d}/bench.out").read()
roles = re.search(r'"cpu_ms_per_call": \{\s*"analytics": ([\d.]+),\s*"gateway": ([\d.]+)', t)
mariadb = (m1 - m0) / os.sysconf("SC_CLK_TCK") * 1000 / max(1, r["calls"])
print(tag, "calls/s", r["calls_per_s"], "p99", r["latency_ms"]["p99"], "errors", r["errors"],
      "gateway", roles and roles.group(2), "analytics", roles and roles.group(1),
      "mariadb ms/call", round(mariadb, 3), "load", r["machine"]["load_avg_1m"])
PY
