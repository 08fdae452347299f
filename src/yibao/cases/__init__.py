"""Review cases (疑点 → 处理): a suspicion worked from its rule hits to a decision
(domain.md §2.1; docs/cases.md)."""
