"""COINr's iData/iMeta read with pyarrow: same data as pandas would give, every error with file, line,
column and rule."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fintech_eval.engine.coinr import read_coinr
from fintech_eval.engine.csvfile import read_csv
from fintech_eval.errors import DataError

ASEM = Path(__file__).resolve().parents[2] / "examples" / "asem"
IMETA = (
    "iCode,iName,Level,Parent,Weight,Direction,Type\n"
    "a,A,1,P,1,1,Indicator\n"
    "b,B,1,P,1,-1,Indicator\n"
    "P,Pillar,2,Index,1,1,Aggregate\n"
    "Index,Index,3,,1,1,Aggregate\n"
    "g_group,G,,,,,Group\n"
    "pop,Pop,,,,,Denominator\n"
)


def write(tmp: Path, idata: str, imeta: str = IMETA) -> tuple[Path, Path]:
    (tmp / "iData.csv").write_text(idata, encoding="utf-8")
    (tmp / "iMeta.csv").write_text(imeta, encoding="utf-8")
    return tmp / "iData.csv", tmp / "iMeta.csv"


def error(tmp: Path, idata: str, imeta: str = IMETA):
    with pytest.raises(DataError) as ei:
        read_coinr(*write(tmp, idata, imeta))
    return ei.value.problems[0]


def test_reads_as_pandas_would(tmp_path):
    d, m = write(tmp_path, 'uCode,uName,g_group,pop,a,b,other\n007,Seven,x,10,1.5,NA,q\nA2,,y,20, 2 ,n/a,r\n005,Five,,30,,3e2,s\n')
    coin = read_coinr(d, m)
    assert coin.data.index.tolist() == ["005", "007", "A2"]  # sorted by uCode, codes kept as written
    expected = pd.DataFrame({"a": [np.nan, 1.5, 2.0], "b": [300.0, np.nan, np.nan]}, index=pd.Index(["005", "007", "A2"], name="uCode"))
    pd.testing.assert_frame_equal(coin.data, expected, check_column_type=False)
    assert coin.data.to_numpy().flags.f_contiguous  # one float block: stages read it without copying
    assert coin.names.tolist() == ["Five", "Seven", "A2"]  # a missing name falls back to the code
    assert pd.isna(coin.groups["g_group"].iloc[0]) and coin.groups["g_group"].tolist()[1:] == ["x", "y"]
    assert coin.denominators["pop"].tolist() == [30.0, 10.0, 20.0]
    assert coin.tree.indicators == ["a", "b"] and coin.tree.directions["b"] == -1
    assert coin.fingerprints == {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in (m, d)}


def test_asem_matches_pandas_reader():
    coin = read_coinr(ASEM / "input_ASEM_iData.csv", ASEM / "input_ASEM_iMeta.csv")
    raw = pd.read_csv(ASEM / "input_ASEM_iData.csv").set_index("uCode").sort_index()
    np.testing.assert_array_equal(coin.data.to_numpy(), raw[coin.data.columns].to_numpy(float))
    assert coin.groups["EurAsia_group"].tolist() == raw["EurAsia_group"].tolist()
    assert coin.names.tolist() == raw["uName"].tolist()


def test_panel_keeps_file_order_and_time():
    coin = read_coinr(ASEM / "input_ASEM_iData_p_panel.csv", ASEM / "input_ASEM_iMeta.csv")
    raw = pd.read_csv(ASEM / "input_ASEM_iData_p_panel.csv")
    assert coin.is_panel and coin.data.index.names == ["uCode", "Time"]
    assert coin.data.index.get_level_values("Time").tolist() == raw["Time"].tolist()
    np.testing.assert_array_equal(coin.data.to_numpy(), raw[coin.data.columns].to_numpy(float))


def test_frames_in():
    d = pd.read_csv(ASEM / "input_ASEM_iData.csv")
    m = pd.read_csv(ASEM / "input_ASEM_iMeta.csv")
    a = read_coinr(d, m)
    b = read_coinr(ASEM / "input_ASEM_iData.csv", ASEM / "input_ASEM_iMeta.csv")
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.groups, b.groups)
    d = d.astype({"LPI": object})
    d.loc[3, "LPI"] = "high"
    with pytest.raises(DataError) as ei:
        read_coinr(d, m)
    p = ei.value.problems[0]
    assert (p.rule, p.where["line"], p.where["column"]) == ("idata.numeric", 5, "LPI")


@pytest.mark.parametrize(
    "idata, rule, line, column, text",
    [
        ("uName,a,b\nx,1,2\n", "idata.columns", None, None, "no 'uCode'"),
        ("uCode,a\nx,1\n", "idata.columns", None, None, "b"),
        ("uCode,a,b,P\nx,1,2,3\n", "idata.aggregate", None, None, "P"),
        ("uCode,a,b\nx,1,2\ny,3,4\nx,5,6\n", "idata.duplicate", None, None, "[2, 4]"),
        ("uCode,a,b\nx,1,2\ny,3,abc\n", "idata.numeric", 3, "b", "'abc'"),
        ('uCode,a,b\nx,1,2\n"y\nz",3,1%\n', "idata.numeric", 4, "b", "'1%'"),  # a quoted newline: the real line
        ("uCode,a,b\nx,1,2\n,3,4\n", "idata.ucode", None, None, "[3]"),
        ("uCode,a,b\nx,1,2\ny,3,4,5\n", "idata.parse", 3, None, "expected 3 fields"),
        ("uCode,a,b,a\nx,1,2,3\n", "idata.header", 1, None, "'a'"),
    ],
)
def test_idata_errors(tmp_path, idata, rule, line, column, text):
    p = error(tmp_path, idata)
    assert p.rule == rule and text in p.message, p
    assert p.where["file"].endswith("iData.csv")
    assert p.where.get("line") == line and p.where.get("column") == column


def test_not_utf8(tmp_path):
    d, m = write(tmp_path, "")
    d.write_bytes(b"uCode,a,b\nx,1,2\n" + "银行,1,2\n".encode("gbk"))
    with pytest.raises(DataError) as ei:
        read_coinr(d, m)
    p = ei.value.problems[0]
    assert (p.rule, p.where["line"]) == ("idata.encoding", 3)


@pytest.mark.parametrize(
    "imeta, rule, text",
    [
        ("iCode,Level,Parent,Weight,Direction\na,1,,1,1\n", "imeta.columns", "'Type'"),
        ("iCode,Type\na,Indicator\n", "imeta.columns", "'Level', 'Parent', 'Weight', 'Direction'"),
        (IMETA.replace("Denominator\n", "Denom\n"), "imeta.type", "Denom"),
    ],
)
def test_imeta_errors(tmp_path, imeta, rule, text):
    p = error(tmp_path, "uCode,a,b\nx,1,2\n", imeta)
    assert p.rule == rule and text in p.message and p.where["file"].endswith("iMeta.csv")


def test_tree_errors_from_imeta(tmp_path):
    with pytest.raises(DataError) as ei:
        read_coinr(*write(tmp_path, "uCode,a,b\nx,1,2\n", IMETA.replace("b,B,1,P,1,-1", "b,B,1,Q,1,2")))
    assert {(p.rule, p.where["node"]) for p in ei.value.problems} == {("tree.parent", "b"), ("tree.direction", "b")}


def test_a_column_typed_from_the_first_block_that_later_changes(tmp_path):
    """pyarrow types an undeclared column from the first block; a later text value is read, not an error."""
    rows = "".join(f"u{i},{i},1,2\n" for i in range(40000)) + "z,later-text,1,2\n"
    out = read_csv(("uCode,other,a,b\n" + rows).encode(), floats=["a", "b"])
    assert out.table.column("other").type == "string" and out.table.num_rows == 40001


def test_large_sorted_file_read_block_by_block(tmp_path):
    """A file already sorted by uCode is copied block by block (pyarrow parses it in several chunks)."""
    rng = np.random.default_rng(0)
    n = 60_000
    x = rng.normal(size=(n, 2))
    x[rng.random(x.shape) < 0.05] = np.nan
    frame = pd.DataFrame({"uCode": [f"u{i:06d}" for i in range(n)], "a": x[:, 0], "b": x[:, 1], "pop": 1.0})
    frame.to_csv(tmp_path / "iData.csv", index=False)
    (tmp_path / "iMeta.csv").write_text(IMETA, encoding="utf-8")
    coin = read_coinr(tmp_path / "iData.csv", tmp_path / "iMeta.csv")
    np.testing.assert_array_equal(coin.data.to_numpy(), x)
    assert coin.data.index[-1] == f"u{n - 1:06d}" and coin.denominators["pop"].eq(1.0).all()


@pytest.mark.parametrize("threads", [False, True])
def test_errors_whatever_the_parser_threads(monkeypatch, threads):
    import fintech_eval.engine.csvfile as csvfile

    monkeypatch.setattr(csvfile, "USE_THREADS", threads)
    with pytest.raises(DataError) as ei:
        read_csv(b"uCode,a,b\nx,1,2\ny,3,abc\n", floats=["a", "b"], rules="idata")
    p = ei.value.problems[0]
    assert (p.rule, p.where["line"], p.where["column"]) == ("idata.numeric", 3, "b")


@pytest.mark.parametrize("marker", ["", "NA", "NaN", "nan", "-nan", "N/A", "n/a", "NULL", "null", "None", "#N/A", "<NA>", "1.#IND", "-1.#QNAN"])
@pytest.mark.parametrize("where", ["number", "text", "untyped", "untyped_numbers", "quoted"])
def test_every_missing_value_marker_reads_as_with_all_markers(monkeypatch, marker, where):
    """The first parse knows two markers ("", NA); a file holding any other one reads exactly as parsed with
    all of pandas' markers: number columns give NaN, text and untyped columns the same types and nulls."""
    import fintech_eval.engine.csvfile as csvfile

    cell = f'"{marker}"' if where == "quoted" else marker
    rows = {
        "number": f"u1,Unit,x,1.5,7\nu2,Two,y,{cell},8\n",
        "quoted": f"u1,Unit,x,1.5,7\nu2,Two,y,{cell},8\n",
        "text": f"u1,{cell},x,1.5,7\nu2,Two,{cell},2.5,8\n",
        "untyped": f"u1,Unit,x,1.5,{cell}\nu2,Two,y,2.5,word\n",
        "untyped_numbers": f"u1,Unit,x,1.5,{cell}\nu2,Two,y,2.5,8\n",
    }[where]
    data = ("uCode,uName,g_group,a,other\n" + rows).encode()
    kwargs = {"floats": ["a"], "strings": ["uCode", "uName", "g_group"], "rules": "idata"}
    got = read_csv(data, **kwargs).table
    monkeypatch.setattr(csvfile, "FAST_NA", csvfile.NA_VALUES)  # every marker in the first parse
    want = read_csv(data, **kwargs).table
    assert got.schema == want.schema
    for name in got.column_names:
        a, b = got.column(name), want.column(name)
        if name == "a":  # a number column: NaN and null are both missing
            np.testing.assert_array_equal(a.to_numpy(zero_copy_only=False), b.to_numpy(zero_copy_only=False))
        else:
            assert a.to_pylist() == b.to_pylist(), name


def _read_big(data: bytes, out) -> None:
    out.put(read_csv(data, floats=["a"]).table.num_rows)


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_large_files_parse_on_the_pool_in_a_forked_child_too():
    """A large file parses on the process's long-lived threads; a forked worker (evaluate_many) gets its own
    (the parent's threads do not survive a fork: reusing its pool would wait forever)."""
    import multiprocessing as mp

    from fintech_eval.engine import csvfile

    data = ("uCode,a\n" + "".join(f"u{i},{i}.5\n" for i in range(120_000))).encode()
    assert len(data) > csvfile.SMALL and read_csv(data, floats=["a"]).table.num_rows == 120_000  # the pool runs
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_read_big, args=(data, out))
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail("the forked child never finished parsing")
    assert out.get(timeout=5) == 120_000
