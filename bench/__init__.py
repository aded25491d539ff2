"""``make bench``: the whole system on this machine, as ``make run`` runs it, under measured load.

Baselines (raw broker and database), end-to-end order throughput and latency, the ShipStation export
with 100,000 stored vendor orders, ship notices to channel webhooks, and each service's memory, all
in one run against its own database and namespace. See ``docs/benchmarks.md``.
"""
