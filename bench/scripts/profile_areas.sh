#!/usr/bin/env bash
# Where the SQLite gateway's time goes, by area: py-spy samples the gateway process (its writer
# thread and event loop) for SECONDS (25) of a `yibao bench settle` on a fresh demo city, and
# bench/scripts/areas.py counts each sample under the innermost area its stack passes through.
#   bench/scripts/profile_areas.sh CODE_DIR [SECONDS]      (needs py-spy: pip install py-spy)
#   SPY_ARGS=--gil …: only the samples of the thread that holds the interpreter lock
set -e
code=$(cd "$1" && pwd); secs=${2:-25}
root=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PY:-$root/.venv/bin/python}
SPY=${SPY:-$(dirname "$PY")/py-spy}
dir=/tmp/yibao-profile; rm -rf "$dir"; mkdir -p "$dir"
export YIBAO_DATA_DIR=$dir
PYTHONPATH=$code/src $PY -m yibao.cli.main init >/dev/null
PYTHONPATH=$code/src $PY -m yibao.cli.main demo >/dev/null 2>&1
PYTHONPATH=$code/src $PY -m yibao.cli.main serve > "$dir/serve.log" 2>&1 & sp=$!
for _ in $(seq 60); do curl -sf http://127.0.0.1:8000/readyz >/dev/null && break; sleep 1; done
sleep 1
gw=$(pgrep -f "role gateway" | head -1)
PYTHONPATH=$root/src $PY -m yibao.cli.main bench settle --duration $((secs + 10)) \
  --ceiling-seconds 0 --raw-commit-seconds 0 --json "$dir/s.json" > "$dir/bench.out" 2>&1 & bp=$!
sleep 5
"$SPY" record -p "$gw" -d "$secs" -r 200 --threads ${SPY_ARGS:-} -f raw -o "$dir/profile.raw" >/dev/null 2>&1 || true
wait $bp || true
kill $sp; wait $sp 2>/dev/null || true
$PY "$root/bench/scripts/areas.py" "$dir/profile.raw" yibao-writer,MainThread
