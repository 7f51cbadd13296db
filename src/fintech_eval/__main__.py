"""``python -m fintech_eval`` is the ``fintech-eval`` command."""

from .cli.app import main

main()
