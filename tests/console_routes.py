"""The console's routes as its access tests cover them: every page, every action and the few routes
open without a session. ``tests/unit/console/test_routes.py`` checks these are exactly the routes the
console registers, so a new route cannot be added without its access tests
(``tests/integration/console/test_console_access.py``) covering it."""

from __future__ import annotations

PAGES = {
    "/": "/",
    "/orders": "/orders",
    "/orders/{order_id}": "/orders/ord_x",
    "/holds": "/holds",
    "/parked": "/parked",
    "/vendors": "/vendors",
    "/vendors/{code}": "/vendors/east",
    "/channels": "/channels",
    "/audit": "/audit",
}
"""GET pages (route → a path the tests request): without a session, sent to sign in."""

ACTIONS = {
    "/signout": "/signout",
    "/holds/{order_id}/release": "/holds/ord_x/release",
    "/holds/{order_id}/cancel": "/holds/ord_x/cancel",
    "/parked/{queue}/replay": "/parked/splitter.orders/replay",
    "/parked/{queue}/discard": "/parked/splitter.orders/discard",
    "/vendors/{code}/feeds/{feed_id}/accept": "/vendors/east/feeds/f1/accept",
    "/vendors/{code}/orders/{vendor_order_id}/acknowledgement": "/vendors/east/orders/vo1/acknowledgement",
    "/vendors/{code}/orders/{vendor_order_id}/shipment": "/vendors/east/orders/vo1/shipment",
}
"""POST actions: without a session 401, without the session's CSRF token 403."""

PUBLIC = {("GET", "/signin"), ("POST", "/signin")}
"""Open without a session (sign-in itself); the static files (``/static``) are too."""

STATIC_PREFIX = "/static"
