"""``python -m shared.cli``: the same as the ``dropship`` command."""

from shared.cli import main

main()
