"""Observability: the process's metrics (`obs.metrics`, Prometheus) and its log format
(`obs.logs`, text or JSON lines with a request id). Domain-free; every layer may record here.
See docs/operations.md."""
