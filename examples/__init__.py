"""Runnable examples for people who build on Dropship Router's public contracts (not part of any service).

``examples.vendor_adapter`` is the adapter that ``docs/writing-an-adapter.md`` walks through.
"""
