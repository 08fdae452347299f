#!/usr/bin/env bash
# Statements and round trips per call on MariaDB: the server's Questions and Com_* counters
# (statements: each of a multi-statement request counts) around a 10 s `yibao bench settle` (a
# warm-up run first), and the requests the general log records meanwhile (round trips: a
# multi-statement request is one entry), divided by the calls answered. The counters are the
# server's: run it with nothing else using that MariaDB (the general log slows it a little).
#   bench/scripts/statements_mysql.sh TAG [WORKERS]
set -e
tag=$1; workers=${2:-1}
root=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PY:-$root/.venv/bin/python}
dir=/tmp/yibao-stm-$tag; rm -rf "$dir"; mkdir -p "$dir"
db=yibao_stm_$tag
mysql -uroot -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
export YIBAO_DATA_DIR=$dir YIBAO_DATABASE_URL="mysql+pymysql://root@127.0.0.1:3306/$db" PYTHONPATH=$root/src
$PY -m yibao.cli.main init >/dev/null; $PY -m yibao.cli.main demo >/dev/null 2>&1
$PY -m yibao.cli.main serve --workers "$workers" > "$dir/serve.log" 2>&1 & sp=$!
for _ in $(seq 90); do curl -sf http://127.0.0.1:8000/readyz >/dev/null && break; sleep 1; done
$PY -m yibao.cli.main bench settle --duration 3 --ceiling-seconds 0 --raw-commit-seconds 0 >/dev/null 2>&1 || true
q="show global status where Variable_name in ('Questions','Com_select','Com_insert','Com_update','Com_delete','Com_commit','Com_rollback','Com_admin_commands')"
glog=/tmp/yibao-stm-$tag.general.log; rm -f "$glog"
mysql -uroot -N -e "$q" > "$dir/before.txt"
mysql -uroot -e "SET GLOBAL general_log_file='$glog'; SET GLOBAL general_log=1"
$PY -m yibao.cli.main bench settle --duration 10 --ceiling-seconds 0 --raw-commit-seconds 0 --json "$dir/s.json" >/dev/null 2>&1 || true
mysql -uroot -e "SET GLOBAL general_log=0"
mysql -uroot -N -e "$q" > "$dir/after.txt"
grep -cE '[0-9]+ Query' "$glog" > "$dir/requests.txt" || echo 0 > "$dir/requests.txt"; rm -f "$glog"
kill $sp; wait $sp 2>/dev/null || true
mysql -uroot -e "DROP DATABASE IF EXISTS $db"
$PY - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
calls = json.load(open(f"{d}/s.json"))["calls"]
before = dict(l.split() for l in open(f"{d}/before.txt"))
after = dict(l.split() for l in open(f"{d}/after.txt"))
print("calls", calls)
print("round trips (requests)", round(int(open(f"{d}/requests.txt").read()) / calls, 2))
for k in after:
    print(k, round((int(after[k]) - int(before[k])) / calls, 2))
PY
