"""Intake: takes channel orders in and answers for them.

Owns: orders as received, channels (webhook endpoints, secrets, API keys), upstream webhook deliveries.
Consumes: ``order.status_changed`` (queue ``intake.status``), to answer with the current status and to
tell the channel. Publishes: ``order.received``, ``order.cancelled``.
"""
