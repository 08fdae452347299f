#!/usr/bin/env bash
# Where a MariaDB run's CPU goes, machine-wide: `yibao bench settle` against `serve --workers N`
# on a fresh demo city, and the CPU per call of every process that shares the cores — the
# gateways, the analytics process, MariaDB, the bench driver — with the machine's idle time per
# call beside them, from /proc over SECONDS (15) of the run. When the idle column is near zero
# the cores are saturated, and calls/s is 1000 × cores / (the total's ms a call).
# It also counts the gateways' context switches per call (voluntary and involuntary, summed over
# their threads).
#   bench/scripts/cpu_roles_mysql.sh CODE_DIR [WORKERS] [SECONDS] [VAR=VALUE ...]
#   (root@127.0.0.1 without a password; drops and creates the database yibao_roles)
set -e
code=$(cd "$1" && pwd); workers=${2:-2}; secs=${3:-15}; shift $(( $# < 3 ? $# : 3 ))
root=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PY:-$root/.venv/bin/python}
dir=/tmp/yibao-roles; rm -rf "$dir"; mkdir -p "$dir"
db=yibao_roles
mysql -uroot -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
export YIBAO_DATA_DIR=$dir YIBAO_DATABASE_URL="mysql+pymysql://root@127.0.0.1:3306/$db"
for kv in "$@"; do export "$kv"; done
PYTHONPATH=$code/src $PY -m yibao.cli.main init >/dev/null
PYTHONPATH=$code/src $PY -m yibao.cli.main demo >/dev/null 2>&1
PYTHONPATH=$code/src $PY -m yibao.cli.main serve --workers "$workers" > "$dir/serve.log" 2>&1 & sp=$!
trap 'kill $sp 2>/dev/null || true' EXIT
for _ in $(seq 90); do curl -sf http://127.0.0.1:8000/readyz >/dev/null && break; sleep 1; done
sleep 1
PYTHONPATH=$root/src $PY -m yibao.cli.main bench settle --duration $((secs + 8)) \
  --ceiling-seconds 0 --raw-commit-seconds 0 --json "$dir/s.json" > "$dir/bench.out" 2>&1 & bp=$!
sleep 4
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
driver=$(pgrep -f "bench settle" | head -1); mariadb=$(pgrep -x mariadbd | head -1)
gateways=$(pgrep -f "role gateway"); analytics=$(pgrep -f "role analytics" | head -1)
snap() {
  echo "driver $(cpu "$driver")"; echo "mariadb $(cpu "$mariadb")"; echo "analytics $(cpu "$analytics")"
  local g=0 v=0 n=0 p s
  for p in $gateways; do
    g=$((g + $(cpu "$p")))
    for s in $(grep -hE '^voluntary_ctxt' /proc/"$p"/task/*/status | awk '{print $2}'); do v=$((v + s)); done
    for s in $(grep -hE '^nonvoluntary_ctxt' /proc/"$p"/task/*/status | awk '{print $2}'); do n=$((n + s)); done
  done
  echo "gateways $g"; echo "switches_voluntary $v"; echo "switches_involuntary $n"
  # /proc/stat's cpu line: user nice system idle iowait irq softirq steal …
  awk '/^cpu /{print "all", $2+$3+$4+$7+$8; print "idle", $5+$6}' /proc/stat
}
snap > "$dir/before"; sleep "$secs"; snap > "$dir/after"
wait $bp || true
kill $sp; wait $sp 2>/dev/null || true
mysql -uroot -e "DROP DATABASE IF EXISTS $db"
$PY - "$dir" "$secs" <<'PY'
import json, os, sys
d, secs = sys.argv[1], float(sys.argv[2])
r = json.load(open(f"{d}/s.json"))
calls = r["calls_per_s"] * secs
tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
before = dict(line.split() for line in open(f"{d}/before"))
after = dict(line.split() for line in open(f"{d}/after"))
delta = {k: int(after[k]) - int(before[k]) for k in before}
print(f"calls/s {r['calls_per_s']}  p99 {r['latency_ms']['p99']} ms  errors {r['errors']}")
for k in ("gateways", "mariadb", "analytics", "driver"):
    print(f"  {k:10s} {delta[k] * tick_ms / calls:6.3f} ms CPU a call")
print(f"  {'all':10s} {delta['all'] * tick_ms / calls:6.3f} ms CPU a call (every process)")
print(f"  {'idle':10s} {delta['idle'] * tick_ms / calls:6.3f} ms a call")
print(f"  gateways' context switches a call: {delta['switches_voluntary'] / calls:.1f} voluntary,"
      f" {delta['switches_involuntary'] / calls:.1f} involuntary")
PY
