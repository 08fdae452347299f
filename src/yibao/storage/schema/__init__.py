"""The row store's tables by area; `yibao.storage.tables` gathers them (import from there)."""
