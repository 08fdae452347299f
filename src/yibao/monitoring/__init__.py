"""Post-hoc monitoring (事后监管): rules over settled claims on the columnar replica.

Windowed rules over a person's history, peer-group outliers, Benford tests of bill totals and
collusion groups, run on DuckDB (TiFlash on TiDB) and never on the row store's hot tables
(domain.md §2.3, docs/monitoring.md). Everything reads pseudonymous data: persons appear as
`psn_ref`, the keyed pseudonym the replica carries.
"""
