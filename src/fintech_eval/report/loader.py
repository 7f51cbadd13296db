"""Read back a result saved by :meth:`Result.save`: moved beside it, to :mod:`fintech_eval.engine.result`."""

from ..engine.result import load_result as load_result
