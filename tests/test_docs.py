"""A feature nobody can find does not exist: every registered method and every command says what it does."""

import pytest

from fintech_eval.cli.app import app
from fintech_eval.engine import STAGES
from fintech_eval.methods import AGGREGATORS, IMPUTERS, NORMALISERS, SCREENERS, TREATERS, WEIGHTS


@pytest.mark.parametrize("registry", [AGGREGATORS, IMPUTERS, NORMALISERS, SCREENERS, TREATERS, WEIGHTS, STAGES], ids=lambda r: r.stage)
def test_every_registered_method_has_a_docstring(registry):
    undocumented = [e.name for e in registry if not (e.doc or (e.func.__doc__ or "").strip())]
    assert not undocumented, f"{registry.stage}: no docstring for {undocumented}"


def test_every_command_has_help():
    import typer.main

    group = typer.main.get_command(app)
    missing = []
    for name, cmd in group.commands.items():
        if not (cmd.help or "").strip():
            missing.append(name)
        for sub_name, sub in getattr(cmd, "commands", {}).items():
            if not (sub.help or "").strip():
                missing.append(f"{name} {sub_name}")
    assert not missing, f"commands without help: {missing}"


def test_readme_names_every_command():
    from pathlib import Path

    import typer.main

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    absent = [n for n in group.commands if f"fintech-eval {n}" not in readme]
    assert not absent, f"README never shows: {absent}"


def test_sources_and_group_rules_are_documented():
    from pathlib import Path

    from fintech_eval.engine.sources import SOURCES
    from fintech_eval.engine.stages import NO_SPREAD

    methods = (Path(__file__).resolve().parents[1] / "docs" / "methods.md").read_text(encoding="utf-8")
    assert all(f"| `{name}`" in methods for name in SOURCES.names())
    assert all(f"`{rule}`" in methods for rule in NO_SPREAD)
    assert "fe.regen(" in methods and "evaluate_many" in methods
