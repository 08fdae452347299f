"""The columnar replica: change-log tailer, DuckDB applier, TiFlash adapter, freshness."""
