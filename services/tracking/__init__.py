"""Tracking. Owns: shipments, per-line fulfilment (ordered, shipped), the order status derived from them.
Consumes: ``shipment.reported`` (``tracking.shipments``), ``order.received``, ``order.cancelled`` (``tracking.orders``).
Publishes: ``order.status_changed`` (with the shipment that caused it, if any)."""
