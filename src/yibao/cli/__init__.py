"""Typer commands: init, db, serve, demo, codes, catalog, replica, simulate, bench …"""
