"""The registers beside the institutions, on SQLite: key-technology enterprises, size attributes, the §4 sample.

    python bench/bench_registers.py [--entities 10000]

1. ``register key-tech``: a register CSV of N enterprises (province names, technologies in Chinese) read,
   checked and upserted (audited);
2. ``register sizes``: a wide sizes file for N institutions (revenue in 亿元, market share in %, financing and
   market value in 万元: 4 × N values) read, checked against both registers, converted and upserted;
3. the same sizes file again with every revenue changed (N updates, each audited);
4. ``sample``: a coverage sample of the N institutions by revenue (sizes read back from the database).
Set-up (the institution register) is not timed. Prints seconds and a load note.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import pandas as pd

from _load import load_note
from fintech_eval.app import Workspace
from fintech_eval.app.registers import register_file
from fintech_eval.app.sizes import draw_sample, import_sizes

PROVINCES = np.array(["广东", "北京市", "Shanghai", "四川省", "310000", "44"])
TECH = np.array(["大数据、人工智能", "云计算", "区块链;5G", "信息安全", "物联网/big_data"])
SECTORS = np.array(["bank", "securities", "insurance", "payment"])


def _timed(what: str, fn) -> float:
    t = time.perf_counter()
    r = fn()
    took = time.perf_counter() - t
    print(f"{what}: {took:.2f} s ({r})")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=10_000)
    a = ap.parse_args()
    n = a.entities
    rng = np.random.default_rng(3)
    with tempfile.TemporaryDirectory() as tmp, Workspace(os.path.join(tmp, "registers.sqlite")) as ws:
        inst = pd.DataFrame({"id": [f"B{i:06d}" for i in range(n)], "name_zh": [f"合成机构{i}" for i in range(n)],
                             "sector": rng.choice(SECTORS, n), "region_code": "44"})
        inst.to_csv(os.path.join(tmp, "inst.csv"), index=False)
        register_file(ws, os.path.join(tmp, "inst.csv"))
        kt = pd.DataFrame({"企业代码": [f"E{i:06d}" for i in range(n)], "企业名称": [f"合成企业{i}" for i in range(n)],
                           "省份": rng.choice(PROVINCES, n), "关键技术": rng.choice(TECH, n), "上市": rng.choice(["是", "否"], n)})
        kt.to_csv(os.path.join(tmp, "kt.csv"), index=False)
        _timed(f"register {n:,} key-tech enterprises from CSV",
               lambda: register_file(ws, os.path.join(tmp, "kt.csv"), "key-tech").inserted)
        sizes = pd.DataFrame({"机构代码": inst["id"], "营业收入(亿元)": rng.lognormal(2, 1, n).round(4),
                              "market_share(%)": rng.uniform(0, 5, n).round(3),
                              "融资总额(万元)": rng.lognormal(8, 1, n).round(1), "上市市值(万元)": rng.lognormal(9, 1, n).round(1)})
        sizes.to_csv(os.path.join(tmp, "sizes.csv"), index=False)
        _timed(f"register sizes of {n:,} institutions ({4 * n:,} values, units converted)",
               lambda: f"{import_sizes(ws, os.path.join(tmp, 'sizes.csv'), period='2024').inserted:,} new")
        sizes["营业收入(亿元)"] = sizes["营业收入(亿元)"] * 1.01
        sizes.to_csv(os.path.join(tmp, "sizes.csv"), index=False)
        _timed(f"the same sizes again, {n:,} revenues changed (audited)",
               lambda: f"{import_sizes(ws, os.path.join(tmp, 'sizes.csv'), period='2024').updated:,} updated")
        _timed(f"sample (coverage 0.8 by revenue) of {n:,} institutions",
               lambda: f"{len(draw_sample(ws, '2024', method='coverage', share=0.8).result.sample):,} sampled")
    print(load_note())


if __name__ == "__main__":
    main()
