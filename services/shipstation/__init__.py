"""Owns: ShipStation connections, exportable vendor orders, export snapshots, notices, problems, polls.
Consumes: ``vendor.<vendor>`` of each ShipStation vendor (``vendor_order.created``, ``.cancelled``,
``.lines_cancelled``, ``.ship_to_changed``).
Publishes: ``shipment.reported`` per package a ship notice reports; ``vendor_order.acknowledged`` on a first export."""
