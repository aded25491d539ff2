"""The scale-out tier (``make test-cluster``): two instances of every service against a three-node
RabbitMQ cluster and a PostgreSQL primary with a streaming replica, all started for the test on ports
of their own, under faults (a node stopped, killed, cut off; the primary lost and the replica promoted).
The machine's own broker and database cluster are never touched."""
