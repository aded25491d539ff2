"""What the splitter does, one module per area: :mod:`.admin` (vendors, catalog, settings, views),
:mod:`.orders` (orders arriving, changing status, cancelled), :mod:`.rounds` (routing an order or some of
its lines, the one place vendor orders and holds are made), :mod:`.holds` (releasing held orders, by a
person or by themselves), :mod:`.vendor_events` (acknowledgements, failures, shipments, overdue
acknowledgements), :mod:`.stock` (feeds and availability).

Event handlers (``on_<event>``) have the shape :meth:`shared.service.Runtime.consume` calls, ``(connection,
event)``, and run inside the inbox transaction, so an effect, the events it causes and the message id
commit together. Commands own their transaction and raise a :class:`~.errors.SplitterError` for the HTTP
layer to answer. Decisions are the pure functions of :mod:`services.splitter.routing`.
"""
