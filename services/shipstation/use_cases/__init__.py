"""The adapter's use cases: one function per command ShipStation or ops sends over HTTP and per event
the adapter consumes, each owning its transaction and calling the pure modules (xml_export,
shipments, timezones, credentials) and the repository. The HTTP modules parse and answer; these
decide and store."""
