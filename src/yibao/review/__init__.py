"""Review (基金监管) at the domain layer: the knowledge base's tables and files, the person's
history, the real-time review the settlement services call, and the rule hits they store.
The rules themselves are pure, in `yibao.risk`."""
