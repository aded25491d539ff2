"""The console service: the ops people's web page over every service's API and the broker.

Owns sessions (PostgreSQL, shared by every console instance) and an audit log of the actions taken.
Consumes and publishes no event: figures come from the other services' admin APIs and, for queues and
parked messages, from the broker (passive declares and :mod:`shared.messaging.parking`).
"""
