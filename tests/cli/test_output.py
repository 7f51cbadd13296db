"""Listings: an empty one says so in a table (Rich draws an empty table as a blank line) and stays a valid empty
CSV or JSON document."""

from __future__ import annotations

from fintech_eval.cli import output


def test_an_empty_listing_says_none(capsys):
    output.emit([], "table", title="returns (0)")
    output.emit([], "table")
    assert capsys.readouterr().out.splitlines() == ["returns (0): none", "none"]
    output.emit([], "json")
    output.emit([], "csv", columns=["id", "state"])
    assert capsys.readouterr().out == "[]\nid,state\n"
