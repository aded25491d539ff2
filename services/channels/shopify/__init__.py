"""Shopify: order webhooks into intake orders, fulfillments and stock back through the Admin GraphQL API.

Pure modules: :mod:`.orders` (``decide``), :mod:`.carriers`, :mod:`.fulfillment` (planning a push),
:mod:`.graphql` (documents, costs, errors), :mod:`.reconcile` (GraphQL order → webhook shape). The only
I/O is :mod:`.client` (:class:`ShopifyClient`), imported from there (not re-exported here, so that
importing a pure module never brings in aiohttp).
"""
