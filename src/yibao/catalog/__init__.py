"""Versioned national catalogs (医保目录 and code catalogs), restrictions, 目录对照 mapping.

- `catalog.model` — CatalogItem, Restrictions, DiseEntry (plain data, pure)
- `catalog.restrictions.check(item, *, gend, age, hosp_lv, med_type, diag_codes, cnt, prd_days)`
- `catalog.repo.terms_at(conn, codes, at)` — the term of each code valid at a time (one query);
  `catalog.repo` is the catalog's SQL: `repo.mapping` (目录对照), `repo.versioning` (applying a
  version), `repo.published` (downloads and the 1312 query)
- `catalog.cache.CatalogCache` — the same from memory, keyed by catalog version
- `catalog.importer.import_file(conn, path, …)` — CSV/XLSX → a new catalog version
- `catalog.mapping` — submit / cancel / approve / reject / list / history / mapping_status
- `catalog.commands` — what 1301–1321, 1312, 3301/3302 ask (their handlers are in
  `yibao.interface.transactions.catalog`); `catalog.downloads`, `catalog.item_query` answer them
- `catalog.commands_queries` — what the paged queries 1304, 1316–1319 ask (handlers in
  `yibao.interface.transactions.catalog_queries`); `catalog.queries` answers them, its SQL in
  `catalog.repo.queries`
- `catalog.demo.load_demo_catalog(conn)` — the demo city's catalog

See docs/catalog.md.
"""
