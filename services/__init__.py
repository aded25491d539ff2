"""The four Dropship Router services: intake, splitter, shipstation adapter and tracking."""
