"""`yibao bench faults`: kill -9 the server under mixed load, check every invariant, fuzz.

The campaign (issue 23, docs/reliability.md) sets up a demo city of its own in a temporary
data directory (`yibao demo --history-days 0`), starts `yibao serve` as a child process and
drives the city's outpatient, inpatient and pharmacy flows (`bench/flows.py`) with clients
that resend an unanswered call with the same msgid (`load.RetryingSession`). At seeded random
moments it kills the server with SIGKILL and starts it again — every second kill only the
replica applier's own process, which `yibao serve` restarts by itself. Then it checks the invariants
(`invariants`), runs `yibao replica verify`, and sends the fuzz stage (`bench/fuzz`) to the
restarted server.

    report = run_faults(FaultParams(kills=3, fuzz_cases=300), progress)
    assert report["lost"] == report["duplicated"] == 0
"""

from yibao.bench.faults.campaign import FaultParams, run_faults
from yibao.bench.faults.invariants import Findings, check

__all__ = ["FaultParams", "Findings", "check", "run_faults"]
