"""Messaging: the topology map, the outbox (writer and relay), the inbox guard and the broker factory."""
