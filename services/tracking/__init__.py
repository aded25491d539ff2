"""Tracking. Owns: shipments, per-line fulfilment (ordered, shipped), what vendors acknowledged per line, the
order status derived from shipments and cancellation.
Consumes: ``shipment.reported`` (``tracking.shipments``), ``order.received``, ``order.cancelled``,
``vendor_order.acknowledged`` (``tracking.orders``).
Publishes: ``order.status_changed`` (with the shipment that caused it, if any)."""
