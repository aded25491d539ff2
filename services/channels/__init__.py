"""The channels service: Shopify and WooCommerce shops as sales channels.

Owns shops (platform, API base, sealed credentials and webhook secret), the platform's order ids
beside ours, webhooks received (deduplicated, processed off the request), and what was pushed back
to the platform per shipment and per SKU. Consumes ``channels.status`` (``order.status_changed``,
``inventory.available``). Publishes no event: orders go in through intake's API as any channel's do.
"""
