"""Splitter: decides which vendor ships each line and sends every vendor only its own lines.

Owns: vendors, catalog (SKU → vendor sources, stock), routing decisions, vendor orders.
Consumes: ``order.received``, ``order.cancelled`` (queue ``splitter.orders``), ``inventory.updated``
(``splitter.inventory``). Publishes: ``vendor_order.created.<vendor>``, ``vendor_order.cancelled.<vendor>``.
"""
