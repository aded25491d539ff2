"""Dropship Router's own shared library: contracts, messaging, database, settings, HTTP and logging."""
