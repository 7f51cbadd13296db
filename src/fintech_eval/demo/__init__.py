"""Demo data: a seeded generator of a SYNTHETIC national sample (合成数据), clearly labelled as such.

    from fintech_eval.demo import generate
    demo = generate(seed=2024)     # 600 institutions in 4 sectors, 31 provinces, 2020-2024
    demo.observations              # long raw variables, source 'synthetic'
    demo.bad_rows                  # a few broken rows, each naming the validation rule it breaks

See :mod:`fintech_eval.demo.generator` for the model, the calibration and the columns.
"""

from .generator import DEMO_SECTORS, DemoData, generate, region_variables, sector_variables

__all__ = ["DEMO_SECTORS", "DemoData", "generate", "region_variables", "sector_variables"]
