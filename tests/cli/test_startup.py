"""Start-up: ``fintech-eval --help`` (and any command's start) imports no heavy module; the constants kept in
the CLI so that it need not import them agree with their sources."""

import json
import subprocess
import sys

HEAVY = ("pandas", "scipy", "plotly", "matplotlib", "weasyprint", "sqlalchemy", "alembic", "openpyxl", "xlsxwriter",
         "pyarrow", "fintech_eval.catalog", "fintech_eval.capability", "fintech_eval.engine", "fintech_eval.methods")


def test_help_imports_no_heavy_module():
    code = (
        "import sys\n"
        "from fintech_eval.cli.app import app\n"
        "from typer.main import get_command\n"
        "get_command(app)\n"  # every command's options and help, as `--help` builds them
        "import json; print(json.dumps(sorted(m for m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    assert not [m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY or m.startswith(HEAVY)]


def test_help_runs():
    done = subprocess.run([sys.executable, "-m", "fintech_eval", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "evaluate" in done.stdout


def test_cli_constants_match_their_sources():
    from fintech_eval.capability.loader import DEFAULT_FRAMEWORK
    from fintech_eval.cli import engine, rate
    from fintech_eval.engine.result import XLSX_MAX_CELLS
    from fintech_eval.methods import WEIGHTS

    assert engine.WEIGHT_METHODS == tuple(WEIGHTS.names())
    assert engine.XLSX_MAX_CELLS == XLSX_MAX_CELLS
    assert rate.DEFAULT_FRAMEWORK == DEFAULT_FRAMEWORK


def test_package_attributes_are_lazy_but_complete():
    import fintech_eval as fe

    for name in fe.__all__:
        assert getattr(fe, name) is not None, name
    assert set(fe.__all__) <= set(dir(fe))
