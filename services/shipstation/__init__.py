"""ShipStation adapter: the Custom Store endpoint ShipStation polls, for every ShipStation-kind vendor.

Owns: ShipStation connections (credentials, time zone, status names, paging), exportable vendor
orders, page-1 snapshots of export windows (stable paging), received ship notices, problems and
the poll log.
Consumes: the ``vendor.<vendor>`` queue of every ShipStation vendor (``vendor_order.created``,
``vendor_order.cancelled``). Publishes: ``shipment.reported``.
"""
