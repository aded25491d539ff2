"""The console's jobs: one module per kind: the overview's figures, the other pages' data, and the
actions (each calls the owning service and writes its audit row)."""
