"""The national interface's model, shared by every domain that answers a transaction:
the call context, the transaction registry and the input-field readers.

The HTTP gateway (`yibao.api.nhsa`) parses envelopes and dispatches here; domains
(`settlement`, `catalog`, …) register their handlers with `registry.transaction`.
"""
