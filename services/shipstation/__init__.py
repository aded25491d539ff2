"""Owns: ShipStation connections, exportable vendor orders, export snapshots, notices, problems, polls.
Consumes: ``vendor.<vendor>`` of each ShipStation vendor (``vendor_order.created``, ``.cancelled``).
Publishes: ``shipment.reported``, one per package a ShipStation ship notice reports."""
