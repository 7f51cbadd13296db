"""The note benchmarks print when other processes compete for the CPUs (their wall times are then
inflated: compare runs made under the same load)."""

from __future__ import annotations

import os


def load_note() -> str | None:
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1) / 2:
        return f"note: load average {load:.1f} on {os.cpu_count()} CPUs: other processes compete, wall times vary"
    return None
