#!/usr/bin/env bash
# What HTTP itself costs the gateway a request: a bare ASGI app under uvicorn (as `yibao serve`
# runs it) against a bare asyncio protocol on httptools, the same 1.4 KB answer to the same 2 KB
# POSTs over 32 keep-alive connections, the server's CPU a request from /proc, ROUNDS (2)
# alternations. The difference is what a protocol of our own for the national-interface paths
# could save at most (bench/RESULTS.md, "Twenty-fourth session").
#   bench/scripts/http_floor/run.sh [ROUNDS] [REQUESTS]
set -e
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../../.." && pwd)
PY=${PY:-$root/.venv/bin/python}
export PYTHONPATH=$root/src
$PY "$here/serve_uvicorn.py" 8011 & u=$!
$PY "$here/serve_protocol.py" 8012 & p=$!
trap 'kill $u $p 2>/dev/null || true' EXIT
sleep 2
for _ in $(seq "${1:-2}"); do
  $PY "$here/drive.py" 8011 "${2:-40000}" $u
  $PY "$here/drive.py" 8012 "${2:-40000}" $p
done
