"""WooCommerce as a sales channel: order webhooks mapped to intake orders (``orders``, ``addresses``),
webhook deliveries checked (``webhooks``), shipments told as notes and tracking items (``tracking``),
stock pushes planned (``stock``), all without I/O; ``client`` (over ``api``) is the only code that
talks to the shop's REST API.

``WooClient`` is imported from ``client`` (not re-exported here: importing a pure module of this
package runs this file, and the client brings aiohttp with it).
"""
