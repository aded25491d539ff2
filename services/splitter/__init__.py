"""Splitter. Owns: vendors, the catalog (SKU → vendor sources, stock), routing decisions, vendor orders.
Consumes: ``order.received``, ``order.cancelled`` (``splitter.orders``), ``inventory.updated`` (``splitter.inventory``).
Publishes: ``vendor_order.created.<vendor>``, ``vendor_order.cancelled.<vendor>`` (each vendor's own lines)."""
