"""The console's routes as an OpenAPI document. Pages answer HTML; every route but sign-in and the
static files needs the session cookie (``dropship_console``), and every POST its CSRF token."""

from __future__ import annotations

from typing import Any

from shared.openapi import RETRY_AFTER, TEXT, Body, Operation, Parameter, Reply, build_document, path_parameter

HTML = Body(TEXT, ("text/html",))
FORM = Body({"type": "object", "additionalProperties": {"type": "string"}}, ("application/x-www-form-urlencoded",))
SESSION_SCHEME = {
    "type": "apiKey",
    "in": "cookie",
    "name": "dropship_console",
    "description": "The console session, given by POST /signin (HttpOnly, SameSite=Strict; 8 h idle expiry).",
}
FRAGMENT = Parameter(
    "fragment", "query", {"type": "string", "enum": ["1"]}, "Only the page's live region (for refresh)."
)
ORDER = path_parameter("order_id", "The order's id.")
QUEUE = path_parameter("queue", "The queue, without namespace (splitter.orders, vendor.east).")
VENDOR = path_parameter("code", "The vendor's code.")
VENDOR_ORDER = path_parameter("vendor_order_id", "The vendor order's id.")
TOO_MANY = Reply("Too many failed sign-ins or unknown session cookies from this address lately.", HTML, RETRY_AFTER)
PAGES = "pages"
ACTIONS = "actions"


def _page(path: str, operation_id: str, summary: str, *parameters: Parameter) -> Operation:
    replies = {
        200: Reply("The page (or with fragment=1 its live region).", HTML),
        303: Reply("No session: to /signin?next=<this page>."),
        401: Reply("No session, for a fragment request.", HTML),
        429: TOO_MANY,
    }
    return Operation("get", path, operation_id, summary, "public", replies, (*parameters, FRAGMENT), tag=PAGES)


def _action(path: str, operation_id: str, summary: str, *parameters: Parameter) -> Operation:
    replies = {
        200: Reply("Done: the page again, saying so.", HTML),
        401: Reply("No session.", HTML),
        403: Reply("The form's csrf field is missing or not the session's.", HTML),
        409: Reply("The broker refused (no such parked queue or message), or the owning service said no.", HTML),
        429: TOO_MANY,
        502: Reply("The owning service did not answer or failed: the page says what it said.", HTML),
    }
    return Operation("post", path, operation_id, summary, "public", replies, parameters, FORM, tag=ACTIONS)


OPERATIONS = [
    Operation(
        "get",
        "/signin",
        "signinForm",
        "The sign-in form: the admin token and a name for the audit log.",
        "public",
        {200: Reply("The form.", HTML)},
        (Parameter("next", "query", {"type": "string"}, "A path of this console to go to afterwards."),),
        tag="session",
    ),
    Operation(
        "post",
        "/signin",
        "signin",
        "Sign in: a session cookie, then 303 to `next`.",
        "public",
        {
            303: Reply("Signed in: the cookie is set."),
            400: Reply("No name given.", HTML),
            401: Reply("Wrong token (counted against the address).", HTML),
            429: TOO_MANY,
        },
        request=Body({"type": "object", "required": ["token", "who"]}, ("application/x-www-form-urlencoded",)),
        tag="session",
    ),
    _action("/signout", "signout", "End the session (then 303 to /signin)."),
    _page(
        "/", "overview", "Orders per minute, today's counts, queues, holds, webhook backlog, polls, failed deliveries."
    ),
    _page(
        "/orders",
        "orders",
        "Order search through intake.",
        *(Parameter(name, "query", {"type": "string"}) for name in ("status", "channel", "q", "cursor")),
    ),
    _page("/orders/{order_id}", "order", "One order's timeline across the services.", ORDER),
    _page("/holds", "holds", "Held orders with their reasons."),
    _action("/holds/{order_id}/release", "release", "Release (fields override.<line_id>: a vendor per line).", ORDER),
    _action("/holds/{order_id}/cancel", "cancel", "Cancel the order through intake.", ORDER),
    _page("/parked", "parked", "Parked messages per queue, with their errors."),
    _action("/parked/{queue}/replay", "replay", "Replay the queue's parked messages (or message_id).", QUEUE),
    _action(
        "/parked/{queue}/discard", "discard", "Discard them (or message_id); asks first unless confirm=yes.", QUEUE
    ),
    _page("/vendors", "vendors", "Every vendor: kind and connection state."),
    _page("/vendors/{code}", "vendor", "A vendor: connection, deliveries, pickups, feeds, interchanges.", VENDOR),
    _action(
        "/vendors/{code}/feeds/{feed_id}/accept",
        "acceptFeed",
        "Accept a quarantined feed.",
        VENDOR,
        path_parameter("feed_id", "The feed's id."),
    ),
    _action(
        "/vendors/{code}/orders/{vendor_order_id}/acknowledgement",
        "acknowledge",
        "An e-mail vendor's acknowledgement, entered by hand.",
        VENDOR,
        VENDOR_ORDER,
    ),
    _action(
        "/vendors/{code}/orders/{vendor_order_id}/shipment",
        "ship",
        "An e-mail vendor's shipment, entered by hand.",
        VENDOR,
        VENDOR_ORDER,
    ),
    _page("/channels", "channels", "Intake's channels and the shops with their backlog."),
    _page("/audit", "audit", "The latest actions: who, what, on what, the outcome, when."),
]


def document() -> dict[str, Any]:
    built = build_document(
        "console",
        "The ops web page: server-rendered HTML over every service's admin API and the broker. Sessions and an"
        " audit log are all it stores.",
        OPERATIONS,
    )
    built["components"]["securitySchemes"]["consoleSession"] = SESSION_SCHEME
    # Every route but sign-in needs the session: described here, the shared builder knows tokens only.
    for methods in built["paths"].values():
        for operation in methods.values():
            if operation.get("tags") in ([PAGES], [ACTIONS]):
                operation["security"] = [{"consoleSession": []}]
    return built
