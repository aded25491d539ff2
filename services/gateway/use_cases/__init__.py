"""The gateway's use cases: one function (or round) per command and event, each owning its transaction."""
