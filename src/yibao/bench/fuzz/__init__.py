"""Seeded fuzzing of the national interface: mutated envelopes of every registered transaction,
sent to a call pipeline (or over HTTP), each answer judged.

design.md §4: bad input gets `infcode: -1` with a message naming the field and the rule, never
a crash, and a refused call writes nothing. A case fails when

- its answer is `-1 系统内部错误` (an exception the pipeline did not expect: a bug),
- an exception escapes the pipeline, or the transport answers HTTP 5xx,
- it was refused (`-1`) and the row counts of the watched tables moved.

The cases are seeded (`random.Random(seed)`): the same seed sends the same bytes, so a failure
found by `yibao bench` can be replayed in a test. A mutation starts from a plausible input of
the transaction (`seed_inputs`, the national field names, ids of a visit opened through the
interface itself by `open_visits`) and breaks one thing: a value replaced by a hostile one
(wrong type, null, huge, negative, NaN or exponent numbers, integers past 2^63, long strings,
deep nesting, lone surrogates as JSON escapes and as raw bytes, odd Unicode), a field or node
removed, a key duplicated, or the whole body (invalid UTF-8, another charset, truncated, deep).

    report = await run_fuzz(pipeline_sender(pipeline), caller, seeds, counts, cases=2000, seed=7)
    assert report.failures == 0, report.samples
"""

from yibao.bench.fuzz.bodies import HOSTILE, Mutation, Pairs, Raw, encode, mutate
from yibao.bench.fuzz.run import (
    Case,
    Counts,
    FuzzReport,
    Reply,
    Sender,
    cases,
    http_sender,
    judge,
    open_visits,
    pipeline_sender,
    run_fuzz,
)
from yibao.bench.fuzz.seeds import Caller, SeedIds, envelope, seed_inputs

__all__ = [
    "HOSTILE",
    "Caller",
    "Case",
    "Counts",
    "FuzzReport",
    "Mutation",
    "Pairs",
    "Raw",
    "Reply",
    "SeedIds",
    "Sender",
    "cases",
    "encode",
    "envelope",
    "http_sender",
    "judge",
    "mutate",
    "open_visits",
    "pipeline_sender",
    "run_fuzz",
    "seed_inputs",
]
