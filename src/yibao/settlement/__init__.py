"""Use cases behind the national interface's transactions: registration, fee upload,
(pre-)settlement, reversal, 2601, queries. Handlers register with `yibao.interface.registry`
when `yibao.settlement.handlers` is imported (by the gateway at start-up)."""
