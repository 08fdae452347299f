"""Domain-free helpers: exact money, time, identifiers. Standard library only."""
