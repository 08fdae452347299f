"""Use cases behind the national interface's transactions: registration, fee upload,
(pre-)settlement, reversal, 2601, queries. They take typed commands (`commands`) and the
caller's facts (`context`); every SQL statement is in `repo`. The handlers that parse the
envelopes and call them live in `yibao.interface.transactions`."""
