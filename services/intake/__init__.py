"""Intake: takes channel orders in, answers for them and tells the channels what became of them.

Owns: orders as received, channels (API keys, webhook URLs and secrets), upstream webhook deliveries.
Consumes: ``order.status_changed`` (queue ``intake.status``): the order's status and the channel's webhook.
Publishes: ``order.received``, ``order.cancelled``.
"""
