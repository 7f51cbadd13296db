"""The report's charts, each drawn twice from one :class:`~fintech_eval.report.document.Chart` spec: with
plotly for HTML (interactive) and with matplotlib for PDF (static PNG, no browser).

Kinds and their ``data``:

* ``radar``: ``axes`` (labels), ``series`` [{``name``, ``values``}], optional ``range`` [lo, hi];
* ``bar``: ``labels``, ``values``, ``highlight`` (labels drawn in the accent colour), ``value_label``;
* ``dist``: ``groups`` [{``label``, ``values``}] (one box each), optional ``marker`` {``name``, ``values``}
  (one point per box: the entity), ``value_label``;
* ``intervals``: ``labels`` (units in rank order), ``rank``, ``low``, ``high`` (the rank interval's ends),
  optional ``median``, ``rank_label``, ``names`` {``rank``, ``median``, ``band``} (legend texts): one row per
  unit, its interval as a bar on a rank axis (best on the left), its rank and median rank as markers;
* ``trend``: ``x``, ``series`` [{``name``, ``values``}], ``x_label``, ``y_label``;
* ``map``: ``values`` {GB/T 2260 code: value} (the 31 provinces or fewer), ``names`` {code: label},
  ``value_label``, ``no_data`` (legend text for provinces without a value). Boundaries are the package's
  GeoJSON (:func:`fintech_eval.geo.load_china_geojson`); plotly draws one path per province with data (its
  own trace), and Taiwan, Hong Kong, Macao and provinces without data in grey (a second trace).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .document import Chart

ACCENT = "#c0392b"
PRIMARY = "#1f5fa8"
GREY = "#eeeeee"  # "no data": lighter than the lightest score colour, and no hue
PALETTE = ["#1f5fa8", "#e08a1e", "#2e8b57", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d35400"]
#: the map's scores: from a clear light blue (never near the grey of "no data") to a dark blue
COLORSCALE = [[0.0, "#8fc1e3"], [0.5, "#3a87c4"], [1.0, "#08306b"]]
FLAG_EDGE = "#e6550d"  # outline of provinces flagged in the data (e.g. too few institutions to be ranked)
HALF_RANK = 0.4  # an interval of whole ranks lo..hi is drawn from lo - 0.4 to hi + 0.4
CJK_FONT = "WenQuanYi Micro Hei"
# the browser picks the first it has: the reader's CJK system font, or WenQuanYi on our Linux machines
WEB_FONTS = f'"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "{CJK_FONT}", sans-serif'
_WQY_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
)


def _finite(values: Any) -> list[float | None]:
    out: list[float | None] = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            out.append(None)
            continue
        out.append(f if math.isfinite(f) else None)
    return out


# --- plotly (HTML) ----------------------------------------------------------------------------------------


def plotly_figure(chart: Chart) -> Any:
    """A plotly ``Figure`` for ``chart``."""
    import plotly.graph_objects as go

    fig = _PLOTLY[chart.kind](chart, go)
    fig.update_layout(
        title={"text": chart.title, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        font={"family": WEB_FONTS, "size": 12},
        template="plotly_white",
        height=chart.height,
        margin={"l": 60, "r": 30, "t": 60 if chart.title else 30, "b": 50},
        legend={"orientation": "h", "y": -0.12},
    )
    return fig


def _p_radar(chart: Chart, go: Any) -> Any:
    d = chart.data
    axes = list(d["axes"])
    fig = go.Figure()
    for i, s in enumerate(d["series"]):
        vals = _finite(s["values"])
        fig.add_trace(
            go.Scatterpolar(
                r=[*vals, vals[0]], theta=[*axes, axes[0]], name=s["name"], mode="lines+markers",
                fill="toself" if i == 0 else "none", line={"color": PALETTE[i % len(PALETTE)], "dash": "solid" if i == 0 else "dash"},
                opacity=0.9,
            )
        )
    lo, hi = d.get("range") or (0, max(1.0, *(v or 0 for s in d["series"] for v in _finite(s["values"]))))
    fig.update_layout(polar={"radialaxis": {"range": [lo, hi], "showline": False}}, showlegend=True)
    return fig


def _p_bar(chart: Chart, go: Any) -> Any:
    d = chart.data
    labels, vals = list(d["labels"]), _finite(d["values"])
    hl = set(d.get("highlight") or [])
    colors = [ACCENT if lab in hl else PRIMARY for lab in labels]
    fig = go.Figure(
        go.Bar(
            x=vals[::-1], y=labels[::-1], orientation="h", marker={"color": colors[::-1]},
            text=[f"{v:.1f}" if v is not None else "" for v in vals[::-1]], textposition="outside",
            hovertemplate="%{y}: %{x:.2f}<extra></extra>",
        )
    )
    fig.update_layout(xaxis={"title": d.get("value_label", "")}, yaxis={"automargin": True}, showlegend=False)
    return fig


def _p_dist(chart: Chart, go: Any) -> Any:
    d = chart.data
    fig = go.Figure()
    labels = [g["label"] for g in d["groups"]]
    for g in d["groups"]:
        fig.add_trace(
            go.Box(y=_finite(g["values"]), name=g["label"], boxpoints="outliers", marker={"color": PRIMARY},
                   line={"color": PRIMARY}, showlegend=False)
        )
    m = d.get("marker")
    if m:
        fig.add_trace(
            go.Scatter(x=labels, y=_finite(m["values"]), mode="markers", name=m["name"],
                       marker={"color": ACCENT, "size": 11, "symbol": "diamond"})
        )
    fig.update_layout(yaxis={"title": d.get("value_label", "")}, showlegend=bool(m))
    return fig


def _p_trend(chart: Chart, go: Any) -> Any:
    d = chart.data
    x = [str(v) for v in d["x"]]
    fig = go.Figure()
    for i, s in enumerate(d["series"]):
        fig.add_trace(go.Scatter(x=x, y=_finite(s["values"]), name=s["name"], mode="lines+markers",
                                 line={"color": PALETTE[i % len(PALETTE)], "width": 3 if i == 0 else 1.5}))
    fig.update_layout(xaxis={"title": d.get("x_label", ""), "type": "category"}, yaxis={"title": d.get("y_label", "")})
    return fig


def _p_map(chart: Chart, go: Any) -> Any:
    from ..geo import load_china_geojson

    d = chart.data
    gj = load_china_geojson(winding="d3")
    values = {k: v for k, v in zip(d["values"], _finite(d["values"].values()), strict=True) if v is not None}
    names = d.get("names", {})
    all_codes = [f["properties"]["code"] for f in gj["features"]]
    feature_names = {f["properties"]["code"]: f["properties"].get("name_zh", "") for f in gj["features"]}
    codes = [c for c in all_codes if c in values]
    rest = [c for c in all_codes if c not in values]
    flagged = d.get("flagged") or {}
    fig = go.Figure()
    fig.add_trace(
        go.Choropleth(
            geojson=gj, featureidkey="properties.code", locations=codes, z=[values[c] for c in codes],
            text=[names.get(c, feature_names.get(c, c)) + (f" ({flagged[c]})" if c in flagged else "") for c in codes],
            colorscale=COLORSCALE,
            marker={"line": {"color": [FLAG_EDGE if c in flagged else "white" for c in codes],
                             "width": [2.0 if c in flagged else 0.6 for c in codes]}}, name=d.get("value_label", ""),
            colorbar={"title": {"text": d.get("value_label", "")}, "thickness": 14},
            hovertemplate="%{text}: %{z:.2f}<extra></extra>",
        )
    )
    if rest:
        fig.add_trace(
            go.Choropleth(
                geojson=gj, featureidkey="properties.code", locations=rest, z=[0] * len(rest),
                text=[f"{names.get(c, feature_names.get(c, c))}: {d.get('no_data', '')}" for c in rest],
                colorscale=[[0, GREY], [1, GREY]], showscale=False, marker={"line": {"color": "white", "width": 0.6}},
                hovertemplate="%{text}<extra></extra>", name=d.get("no_data", ""),
            )
        )
    fig.update_geos(fitbounds="locations", visible=False, projection_type="mercator")
    fig.update_layout(margin={"l": 10, "r": 10, "t": 50 if chart.title else 10, "b": 10})
    return fig


def _p_intervals(chart: Chart, go: Any) -> Any:
    d = chart.data
    labels = list(d["labels"])[::-1]
    rank, lo, hi = (_finite(d[k])[::-1] for k in ("rank", "low", "high"))
    names = d.get("names") or {}
    fig = go.Figure()
    fig.add_trace(go.Bar(  # whole ranks lo..hi: the bar covers each rank's cell (a one-rank interval stays visible)
        y=labels, x=[(h - a + 2 * HALF_RANK) if a is not None and h is not None else None for a, h in zip(lo, hi, strict=True)],
        base=[a - HALF_RANK if a is not None else None for a in lo], orientation="h", marker={"color": PRIMARY, "opacity": 0.35}, name=names.get("band", ""),
        customdata=list(zip(lo, hi, strict=True)), hovertemplate="%{y}: %{customdata[0]:.0f}–%{customdata[1]:.0f}<extra></extra>",
    ))
    med = _finite(d.get("median") or [None] * len(labels))[::-1]
    if any(m is not None for m in med):
        fig.add_trace(go.Scatter(y=labels, x=med, mode="markers", name=names.get("median", ""),
                                 marker={"color": PRIMARY, "size": 7, "symbol": "circle-open"}))
    fig.add_trace(go.Scatter(y=labels, x=rank, mode="markers", name=names.get("rank", ""),
                             marker={"color": ACCENT, "size": 10, "symbol": "line-ns", "line": {"width": 3, "color": ACCENT}},
                             hovertemplate="%{y}: %{x:.0f}<extra></extra>"))
    top = max([h for h in hi if h is not None] + [r for r in rank if r is not None] + [1])
    fig.update_layout(xaxis={"title": d.get("rank_label", ""), "range": [0.5, top + 0.5]}, yaxis={"automargin": True},
                      barmode="overlay", showlegend=True)
    return fig


_PLOTLY: dict[str, Callable[[Chart, Any], Any]] = {
    "radar": _p_radar, "bar": _p_bar, "dist": _p_dist, "trend": _p_trend, "map": _p_map, "intervals": _p_intervals,
}


def plotly_html(chart: Chart, *, include_plotlyjs: bool, div_id: str) -> str:
    """The chart as an HTML fragment (a div and its script); plotly.js inline when ``include_plotlyjs``."""
    fig = plotly_figure(chart)
    return fig.to_html(
        full_html=False, include_plotlyjs=include_plotlyjs, div_id=div_id,
        config={"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "png", "scale": 2}},
        default_width="100%", default_height=f"{chart.height}px",
    )


# --- matplotlib (PDF) -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _ensure_cjk_font() -> str | None:
    """Make WenQuanYi Micro Hei known to matplotlib (registering the file if its cache predates it)."""
    from matplotlib import font_manager

    try:
        font_manager.findfont(CJK_FONT, fallback_to_default=False)
        return CJK_FONT
    except ValueError:
        pass
    for p in _WQY_PATHS:
        if Path(p).is_file():
            font_manager.fontManager.addfont(p)
            return CJK_FONT
    return None


def _rc() -> dict[str, Any]:
    family = [f for f in (_ensure_cjk_font(), "DejaVu Sans") if f]
    return {
        "font.family": "sans-serif", "font.sans-serif": family, "axes.unicode_minus": False, "font.size": 9,
        "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "path",
    }


def mpl_figure(chart: Chart) -> Any:
    """A matplotlib ``Figure`` for ``chart`` (object API, no pyplot state: safe in servers and threads)."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    with mpl.rc_context(_rc()):
        fig = Figure(figsize=(7.0, max(2.6, chart.height / 100 * 0.85)), dpi=150, layout="constrained")
        _MPL[chart.kind](chart, fig)
        if chart.title:
            fig.suptitle(chart.title, x=0.01, ha="left", fontsize=11)
    return fig


def mpl_png(chart: Chart, dpi: int = 150) -> bytes:
    import matplotlib as mpl

    fig = mpl_figure(chart)
    buf = io.BytesIO()
    with mpl.rc_context(_rc()):
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def _m_radar(chart: Chart, fig: Any) -> None:
    d = chart.data
    axes_labels = list(d["axes"])
    n = len(axes_labels)
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    for i, s in enumerate(d["series"]):
        vals = np.array([np.nan if v is None else v for v in _finite(s["values"])], dtype=float)
        a, v = np.r_[ang, ang[0]], np.r_[vals, vals[0]]
        c = PALETTE[i % len(PALETTE)]
        ax.plot(a, v, color=c, lw=2 if i == 0 else 1.2, ls="-" if i == 0 else "--", label=s["name"], marker="o", ms=3)
        if i == 0:
            ax.fill(a, np.nan_to_num(v), color=c, alpha=0.15)
    if d.get("range"):
        ax.set_ylim(*d["range"])
    ax.set_xticks(ang)
    ax.set_xticklabels([_wrap(lab, 14) for lab in axes_labels], fontsize=7.5)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(loc="upper right", bbox_to_anchor=(1.35, 1.12), fontsize=8, frameon=False)


def _wrap(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    words = text.split(" ")
    if len(words) == 1:  # Chinese: cut by characters
        return "\n".join(text[i : i + width] for i in range(0, len(text), width))
    lines, cur = [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    lines.append(cur)
    return "\n".join(lines)


def _m_bar(chart: Chart, fig: Any) -> None:
    d = chart.data
    labels, vals = list(d["labels"]), [np.nan if v is None else v for v in _finite(d["values"])]
    hl = set(d.get("highlight") or [])
    ax = fig.add_subplot()
    y = np.arange(len(labels))[::-1]
    ax.barh(y, vals, color=[ACCENT if lab in hl else PRIMARY for lab in labels], height=0.7)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=7 if len(labels) > 25 else 8)
    ax.set_xlabel(d.get("value_label", ""))
    for yi, v in zip(y, vals, strict=True):
        if np.isfinite(v):
            ax.text(v, yi, f" {v:.1f}", va="center", fontsize=6.5)
    ax.margins(x=0.08, y=0.01)


def _m_dist(chart: Chart, fig: Any) -> None:
    d = chart.data
    ax = fig.add_subplot()
    data = [np.array([v for v in _finite(g["values"]) if v is not None]) for g in d["groups"]]
    pos = np.arange(1, len(data) + 1)
    ax.boxplot(data, positions=pos, widths=0.55, patch_artist=True,
               boxprops={"facecolor": "#dbe7f5", "edgecolor": PRIMARY}, medianprops={"color": PRIMARY},
               flierprops={"markersize": 3})
    m = d.get("marker")
    if m:
        ax.scatter(pos, [np.nan if v is None else v for v in _finite(m["values"])], marker="D", color=ACCENT, zorder=3, s=28, label=m["name"])
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_xticks(pos)
    ax.set_xticklabels([_wrap(g["label"], 12) for g in d["groups"]], fontsize=7, rotation=0)
    ax.set_ylabel(d.get("value_label", ""))


def _m_trend(chart: Chart, fig: Any) -> None:
    d = chart.data
    ax = fig.add_subplot()
    x = [str(v) for v in d["x"]]
    for i, s in enumerate(d["series"]):
        ax.plot(x, [np.nan if v is None else v for v in _finite(s["values"])], marker="o", lw=2.5 if i == 0 else 1.2,
                color=PALETTE[i % len(PALETTE)], label=s["name"])
    ax.set_xlabel(d.get("x_label", ""))
    ax.set_ylabel(d.get("y_label", ""))
    ax.legend(fontsize=7, frameon=False, ncols=min(4, len(d["series"])), loc="upper center", bbox_to_anchor=(0.5, -0.15))


def _mercator(lat: np.ndarray) -> np.ndarray:
    return np.degrees(np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)))


def _m_map(chart: Chart, fig: Any) -> None:
    import matplotlib as mpl
    from matplotlib.collections import PolyCollection

    from ..geo import load_china_geojson

    d = chart.data
    values = {k: v for k, v in zip(d["values"], _finite(d["values"].values()), strict=True) if v is not None}
    gj = load_china_geojson()
    vals = np.array(list(values.values()), dtype=float)
    lo, hi = (float(vals.min()), float(vals.max())) if len(vals) else (0.0, 1.0)
    if hi == lo:
        hi = lo + 1.0
    cmap = mpl.colors.LinearSegmentedColormap.from_list("scores", [(p, c) for p, c in COLORSCALE])
    flagged = d.get("flagged") or {}
    norm = mpl.colors.Normalize(vmin=lo, vmax=hi)
    polys, colors, edges = [], [], []
    for f in gj["features"]:
        code = f["properties"]["code"]
        geom = f["geometry"]
        parts = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        color = cmap(norm(values[code])) if code in values else GREY
        for poly in parts:
            ring = np.asarray(poly[0], dtype=float)
            polys.append(np.column_stack([ring[:, 0], _mercator(ring[:, 1])]))
            colors.append(color)
            edges.append(FLAG_EDGE if code in flagged else "white")
    ax = fig.add_subplot()
    ax.add_collection(PolyCollection(polys, facecolors=colors, edgecolors=edges,
                                     linewidths=[1.4 if e == FLAG_EDGE else 0.4 for e in edges]))
    allxy = np.vstack(polys)
    ax.set_xlim(allxy[:, 0].min() - 1, allxy[:, 0].max() + 1)
    ax.set_ylim(allxy[:, 1].min() - 1, allxy[:, 1].max() + 1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, shrink=0.7, label=d.get("value_label", ""))
    if len(values) < 34:
        from matplotlib.patches import Patch

        handles = [Patch(facecolor=GREY, edgecolor="#999999", label=d.get("no_data", ""))]
        if flagged:
            handles.append(Patch(facecolor="white", edgecolor=FLAG_EDGE, linewidth=1.4, label=next(iter(flagged.values()))))
        ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False)


def _m_intervals(chart: Chart, fig: Any) -> None:
    d = chart.data
    labels = list(d["labels"])
    rank, lo, hi = ([np.nan if v is None else v for v in _finite(d[k])] for k in ("rank", "low", "high"))
    med = [np.nan if v is None else v for v in _finite(d.get("median") or [None] * len(labels))]
    names = d.get("names") or {}
    ax = fig.add_subplot()
    y = np.arange(len(labels))[::-1]
    lo_a, hi_a = np.asarray(lo, float), np.asarray(hi, float)
    ax.barh(y, hi_a - lo_a + 2 * HALF_RANK, left=lo_a - HALF_RANK, height=0.6, color=PRIMARY, alpha=0.35, label=names.get("band", ""))
    if np.isfinite(med).any():
        ax.scatter(med, y, marker="o", facecolors="none", edgecolors=PRIMARY, s=18, label=names.get("median", ""), zorder=3)
    ax.scatter(rank, y, marker="|", color=ACCENT, s=90, linewidths=2.2, label=names.get("rank", ""), zorder=4)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=7 if len(labels) > 25 else 8)
    top = np.nanmax(np.r_[hi_a, np.asarray(rank, float), 1.0])
    ax.set_xlim(0.5, top + 0.5)
    ax.set_xlabel(d.get("rank_label", ""))
    ax.legend(fontsize=7, frameon=False, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    ax.margins(y=0.01)


_MPL: dict[str, Callable[[Chart, Any], None]] = {
    "radar": _m_radar, "bar": _m_bar, "dist": _m_dist, "trend": _m_trend, "map": _m_map, "intervals": _m_intervals,
}

KINDS = tuple(_PLOTLY)
