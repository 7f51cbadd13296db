"""``fintech-eval catalog …``: list, show, validate, diff and export indicator frameworks."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import visible
from .output import Lang, RowFmt, console, emit, safe

if TYPE_CHECKING:  # the catalog (pydantic models, YAML) is imported by the commands that use it
    from rich.tree import Tree as RichTree

    from ..catalog.models import Framework, Heading, Indicator, Task

app = typer.Typer(help="Indicator frameworks: JR/T 0201-2020, the FinTech Development Plan, your extensions.", no_args_is_help=True)


FrameworkOpt = Annotated[str, typer.Option("--framework", "-f", help="Framework id (e.g. jrt0201-2020, plan-2019-2021), id@version, or a YAML path.")]
ExtOpt = Annotated[list[Path] | None, typer.Option("--extension", "-x", help="Extension YAML applied on top (repeatable).")]


def _is_capability(ref: str) -> bool:
    """A shipped capability model's id (e.g. fcsc-2023-default), or a YAML file that declares one."""
    from ..capability.loader import shipped_files

    return ref in shipped_files()


def _capability(ref: str):
    from ..capability.loader import load_capability_framework

    return load_capability_framework(ref)


def _load(ref: str, ext: list[Path] | None) -> Framework:
    from ..catalog import load_framework

    return load_framework(ref, extensions=list(ext or []))


def indicator_row(fw: Framework, path: tuple[str, ...], ind: Indicator) -> dict[str, Any]:
    """The JSON object of one indicator (``catalog list --format json``)."""
    return {
        "code": ind.code,
        "name_zh": ind.name.zh,
        "name_en": ind.name.en,
        "block": path[0] if path else ind.code,
        "level1": path[1] if len(path) > 1 else None,
        "level2": path[2] if len(path) > 2 else None,
        "path": list(path),
        "direction": ind.direction,
        "sectors": list(ind.sectors),
        "collection": list(ind.collection),
        "unit": ind.unit,
        "type": ind.type,
        "complete": ind.complete,
        "definition_zh": ind.definition.zh,
        "definition_en": ind.definition.en,
        "formula": ind.formula,
        "variants": [{"sectors": v.sectors, "formula": v.formula, "definition_zh": v.definition.zh, "definition_en": v.definition.en} for v in ind.variants],
        "rollup": ind.rollup.model_dump(exclude_none=True) if ind.rollup else None,
        "clause": ind.clause,
        "table": ind.table,
    }


def task_row(path: tuple[str, ...], t: Task) -> dict[str, Any]:
    return {
        "code": t.code,
        "number": t.number,
        "name_zh": t.name.zh,
        "name_en": t.name.en,
        "area": path[-1] if path else None,
        "path": list(path),
        "indicators": [link.code for link in t.indicators],
        "summary_zh": t.summary.zh,
        "summary_en": t.summary.en,
    }


@app.command("frameworks")
def frameworks_cmd(fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table) -> None:
    """List the shipped frameworks and their versions (indicator frameworks, plans, capability models)."""
    from ..capability.loader import shipped_files
    from ..catalog import list_frameworks

    rows = list_frameworks()
    for ref in sorted(shipped_files()):
        cf = _capability(ref)
        rows.append({"ref": ref, "id": cf.id, "version": cf.version, "kind": "capability", "status": "",
                     "title_zh": cf.title.zh, "title_en": cf.title.en})
    emit(rows, fmt.value, title="Frameworks")


@app.command("list")
def list_cmd(
    framework: FrameworkOpt = "jrt0201-2020",
    block: Annotated[str | None, typer.Option("--block", "-b", help="Only this block: J, H or Q.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include incomplete indicators (e.g. Q-A2B1-C1, name cut off in the source).")] = False,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the table.")] = Lang.zh,
    fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
    extension: ExtOpt = None,
) -> None:
    """List the indicators of a framework (for a plan: its tasks; for a capability model, e.g.
    fcsc-2023-default: its indicators with their capability and the provider types they apply to)."""
    if _is_capability(framework):
        cf = _capability(framework)
        rows = [{"code": i.code, "capability": cf.capability_of(i.code).code, f"name_{lang.value}": i.name.get(lang.value),
                 "applies_to": ",".join(i.applies_to) or "all", "mandatory": len(i.mandatory)} for i in cf.indicators()]
        cols = ["code", "capability", f"name_{lang.value}", "applies_to", "mandatory"]
        emit(rows, fmt.value, columns=cols, title=f"{cf.title.get(lang.value)} ({cf.id} v{cf.version}) — {len(rows)}")
        return
    from ..catalog.models import Indicator, Task

    fw = _load(framework, extension)
    if fw.kind == "plan":
        rows = [task_row(p, n) for p, n in fw.walk() if isinstance(n, Task)]
        cols = ["code", "area", f"name_{lang.value}", "indicators"]
    else:
        rows = [
            indicator_row(fw, p, n)
            for p, n in fw.walk()
            if isinstance(n, Indicator) and (all_ or n.complete) and (block is None or p[0] == block)
        ]
        cols = ["code", f"name_{lang.value}", "direction", "type", "unit", "sectors", "collection", "complete"]
    if fmt is not RowFmt.table:
        emit(rows, fmt.value, columns=None if fmt is RowFmt.json else list(rows[0]) if rows else cols)
    else:
        emit(rows, "table", columns=cols, title=f"{fw.title.get(lang.value)} ({fw.id} v{fw.version}) — {len(rows)}")


@app.command("tree")
def tree_cmd(framework: FrameworkOpt = "jrt0201-2020", lang: Annotated[Lang, typer.Option("--lang")] = Lang.zh, extension: ExtOpt = None) -> None:
    """Show the framework as a tree of headings and indicators (incomplete ones marked)."""
    from rich.tree import Tree as RichTree

    fw = _load(framework, extension)
    root = RichTree(f"[bold]{fw.title.get(lang.value)}[/] ({fw.id} v{fw.version})")

    def add(parent: RichTree, h: Heading) -> None:
        mark = "" if h.complete else " [yellow](incomplete)[/]"
        node = parent.add(f"[bold]{h.code}[/] {h.name.get(lang.value)}{mark}")
        for c in h.children:
            add(node, c)
        for i in h.indicators:
            flags = (" [magenta](reverse)[/]" if i.reverse else "") + ("" if i.complete else " [yellow](incomplete)[/]")
            node.add(f"{i.code} {i.name.get(lang.value)}{flags}")
        for t in h.tasks:
            node.add(f"{t.code} {t.name.get(lang.value)} → {', '.join(x.code for x in t.indicators) or '—'}")

    for b in fw.blocks:
        add(root, b)
    console.print(root)


@app.command("show")
def show_cmd(
    code: Annotated[str, typer.Argument(help="An indicator, heading or task code, e.g. J-A3B2-C6.")],
    framework: FrameworkOpt = "jrt0201-2020",
    fmt: Annotated[RowFmt, typer.Option("--format", help="table (readable) or json")] = RowFmt.table,
    extension: ExtOpt = None,
) -> None:
    """Show everything the framework says about one code: definition, per-sector variants, formula, variables."""
    if _is_capability(framework):
        cf = _capability(framework)
        try:
            node = cf.node(code)
        except KeyError:
            console.print(f"[red]no node {code!r} in {cf.id}[/]")
            raise typer.Exit(1) from None
        data = {"path": list(cf.path_of(code)), **node.model_dump(mode="json", exclude_none=True)}
        if fmt is RowFmt.json:
            sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        else:
            emit([{"field": k, "value": json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v} for k, v in data.items()],
                 "table", title=code)
        return
    from ..catalog.models import COLLECTION_METHODS, Indicator, Task

    fw = _load(framework, extension)
    try:
        node = fw.node(code)
    except KeyError:
        console.print(f"[red]no node {safe(repr(code))} in {safe(fw.id)}[/]")
        raise typer.Exit(1) from None
    path = fw.path_of(code)
    data = node.model_dump(mode="json", exclude_none=True)
    data["path"] = list(path)
    if isinstance(node, Indicator):
        names = set()
        for t in [node.formula, *[v.formula for v in node.variants]]:
            if t:
                from ..catalog.formula import parse

                names |= parse(t).names
        data["variables"] = [fw.variable(n).model_dump(mode="json") for n in sorted(names) if n in {v.name for v in fw.variables}]
        data["parameters"] = [p.model_dump(mode="json") for p in fw.parameters if p.name in names]
    if fmt is RowFmt.json:
        emit([data], "json")
        return
    console.print(f"[bold]{safe(code)}[/]  {safe(' > '.join(path))}")
    _plain(f"  {node.name.zh} / {node.name.en}")
    if isinstance(node, Indicator):
        _plain(f"  type {node.type}, unit {node.unit}, direction {'reverse (-1)' if node.reverse else 'positive (+1)'}")
        methods = ", ".join(f"{c} {COLLECTION_METHODS[c]['zh']}" for c in node.collection)
        _plain(f"  collection: {methods}")
        _plain(f"  sectors: {', '.join(node.sectors) or 'all'}")
        _plain(f"  定义: {node.definition.zh}")
        _plain(f"  definition: {node.definition.en}")
        if node.formula:
            _plain(f"  formula: {node.formula}")
        for v in node.variants:
            console.print(f"  [bold]variant for {safe(', '.join(v.sectors))}[/]: {safe(v.formula)}")
            _plain(f"    定义: {v.definition.zh}")
            _plain(f"    definition: {v.definition.en}")
        if node.rollup:
            _plain(f"  roll-up: {node.rollup.model_dump(exclude_none=True)}")
        for v in data.get("variables", []):
            _plain(f"  variable {v['name']} [{v['unit']}]: {v['help']['zh']} / {v['help']['en']}")
        for p in data.get("parameters", []):
            _plain(f"  parameter {p['name']} = {p['default']}: {p['description']['en']}")
        for n in node.notes:
            _plain(f"  note: {n}")
        if node.clause or node.table:
            _plain(f"  source: clause {node.clause or '?'} {node.table or ''}")
    elif isinstance(node, Task):
        _plain(f"  {node.summary.en}")
        for link in node.indicators:
            _plain(f"  → {link.code}: {link.reason.en}")
    else:
        for c in node.children:
            _plain(f"  {c.code} {c.name.zh} / {c.name.en}")
        for i in node.indicators:
            _plain(f"  {i.code} {i.name.zh} / {i.name.en}")


def _plain(text: str) -> None:
    """A line of framework text (names, definitions, units like ``[person]``): printed as text, never as Rich
    markup, with control characters escaped (an extension file is user input)."""
    console.print(visible(text), markup=False, highlight=False, soft_wrap=True)


@app.command("validate")
def validate_cmd(file: Annotated[Path, typer.Argument(help="A framework or extension YAML file.")]) -> None:
    """Validate a framework or extension file; on problems, list every one and exit with code 2."""
    from ..catalog import validate_file

    fw = validate_file(file)
    n = len(fw.tasks()) if fw.kind == "plan" else len(fw.indicators())
    console.print(f"[green]ok[/]: {safe(file)} — {safe(fw.id)} v{safe(fw.version)}, {n} {'tasks' if fw.kind == 'plan' else 'indicators'}")


@app.command("diff")
def diff_cmd(
    a: Annotated[str, typer.Argument(help="Old framework (id, id@version or path).")],
    b: Annotated[str, typer.Argument(help="New framework (id, id@version or path).")],
    fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
) -> None:
    """List indicators added, removed and changed (field by field) between two frameworks or versions."""
    from ..catalog import diff_frameworks, load_framework

    rows = diff_frameworks(load_framework(a), load_framework(b))
    emit(rows, fmt.value, columns=["change", "code", "field", "old", "new"], title=f"{a} → {b}: {len(rows)} change(s)")


@app.command("export")
def export_cmd(
    framework: FrameworkOpt = "jrt0201-2020",
    fmt: Annotated[str, typer.Option("--format", help="xlsx")] = "xlsx",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output file (default <framework>.xlsx).")] = None,
    extension: ExtOpt = None,
) -> None:
    """Write a readable workbook of the whole catalog (indicators, variants, variables, parameters, tasks)."""
    from ..catalog.export import export_xlsx

    if fmt != "xlsx":
        raise typer.BadParameter("only xlsx is supported", param_hint="--format")
    fw = _load(framework, extension)
    path = export_xlsx(fw, out or Path(f"{fw.id}.xlsx"))
    console.print(f"wrote {safe(path)}")
