"""Routing, free of I/O: which vendor ships which units of each line and why, the holds that keep an
order back, what a stock feed does, and what acknowledgements, failures and cancellations change.

- :mod:`.model`: the data routing reads and produces;
- :mod:`.stock`: a source's available stock and how it is explained;
- :mod:`.strategies`: eligible sources per line, ranked by the merchant's strategy, with reasons;
- :mod:`.split`: allocations grouped into vendor orders with their share of the money;
- :mod:`.holds`: the order-level hold rules (payment, value, PO box, duplicates);
- :mod:`.feeds`: snapshot and delta feeds, and the guards that quarantine a suspicious one;
- :mod:`.lifecycle`: a vendor order's lines through acknowledgement, shipment and cancellation.
"""
