"""The ``fintech-eval`` command line (Typer + Rich)."""
