#!/bin/sh
# Bring the schema up to date (idempotent: `yibao init` keeps data and accounts), then run
# the command — `serve` by default. Passwords of the first accounts come from the environment
# or are written owner-only into the data directory (docs/deploy.md).
set -eu
if [ "${1:-serve}" = "serve" ]; then
  yibao init
fi
exec yibao "$@"
