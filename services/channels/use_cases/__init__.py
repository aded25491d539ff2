"""What the channels service does: one module per use case; each owns its transaction."""
