"""Files of mixed encodings import in one `fintech-eval import` call; an unreadable one is refused naming the
CLI option, and the same file imports once its encoding is given with it."""

from __future__ import annotations

from tests.clirun import run_cli


def test_mixed_encodings_in_one_call_then_an_unknown_one_names_the_option(tmp_path, capsys, monkeypatch):
    db = tmp_path / "fe.sqlite"
    reg = tmp_path / "register.csv"
    reg.write_text("id,name_zh,sector\nB001,甲银行,bank\nB002,乙银行,bank\n", encoding="utf-8")
    head = "entity,period,variable,value,unit,source\n"
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes((head + "B001,2024,employees,100,人,问卷调查\n").encode("gbk"))
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + (head + "B002,2024,employees,90,人,年报\n").encode("utf-8"))
    r = run_cli(["import", gbk, bom, "--register", reg, "--db", db], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "2 observations stored" in r.out
    big5 = tmp_path / "big5.csv"
    big5.write_bytes((head + "B001,2023,employees,95,人,問卷調查\n").encode("big5"))
    r = run_cli(["import", big5, "--db", db], capsys, monkeypatch)
    assert r.code == 2 and "--encoding NAME" in r.err and "encoding=" not in r.err
    r = run_cli(["import", big5, gbk, "--encoding", "big5", "--db", db], capsys, monkeypatch)
    assert r.code == 0, r.err  # the GBK file given again is unchanged; the Big5 one read as told
