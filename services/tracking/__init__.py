"""Tracking: knows what has shipped, line by line, and what that means for the order.

Owns: shipments, per-line fulfilment state, derived order status.
Consumes: ``shipment.reported`` (queue ``tracking.shipments``); ``order.received`` and
``order.cancelled`` (queue ``tracking.orders``, for the lines to measure shipments against).
Publishes: ``order.status_changed`` (with the shipment that caused it, if any).
"""
