"""The channels service's tables: one module per table family, SQL only, no decisions."""
