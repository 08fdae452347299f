"""The row store: tables, engines (SQLite / MySQL protocol / TiDB), unit of work, change log."""
