"""Moved to :mod:`fintech_eval.engine.coinr`; kept importable for existing code."""

from .engine.coinr import META_TYPES as META_TYPES
from .engine.coinr import CoinInput as CoinInput
from .engine.coinr import read_coinr as read_coinr
