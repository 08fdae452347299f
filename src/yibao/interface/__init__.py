"""A national-interface call end to end (docs/interface.md): the call pipeline (envelope,
credentials, sign-in, msgid idempotency, error → infcode), the call context, the transaction
registry, the input-field readers and the transactions' handlers (`interface.transactions`).

The HTTP transport (`yibao.api.nhsa`) hands request bodies to `pipeline.CallPipeline`; a test
or a command can do the same without HTTP.
"""
