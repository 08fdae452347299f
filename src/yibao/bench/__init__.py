"""The benchmark harness: a lean load driver that replays the city's flows through the
national interface, and the scenarios of `yibao bench` (docs/bench.md)."""
