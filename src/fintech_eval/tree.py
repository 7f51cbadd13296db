"""Moved to :mod:`fintech_eval.engine.tree`; kept importable for existing code."""

from .engine.tree import Tree as Tree
