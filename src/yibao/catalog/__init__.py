"""Versioned national catalogs (医保目录 and code catalogs), restrictions, 目录对照 mapping.

- `catalog.model` — CatalogItem, Restrictions, DiseEntry (plain data, pure)
- `catalog.restrictions.check(item, *, gend, age, hosp_lv, med_type, diag_codes, cnt, prd_days)`
- `catalog.repo.terms_at(conn, codes, at)` — the term of each code valid at a time (one query)
- `catalog.cache.CatalogCache` — the same from memory, keyed by catalog version
- `catalog.importer.import_file(conn, path, …)` — CSV/XLSX → a new catalog version
- `catalog.mapping` — submit / cancel / approve / reject / list / history / mapping_status
- `catalog.transactions` — handlers for 1301–1321 (downloads), 1312 (query), 3301/3302
- `catalog.demo.load_demo_catalog(conn)` — the demo city's catalog

See docs/catalog.md.
"""
