"""Backup and restore of a data directory (docs/operations.md, "Backup and restore")."""
