"""China's province boundaries as GeoJSON (``geo/data/china.geojson``).

34 features (the 31 mainland divisions plus Taiwan, Hong Kong and Macao), each with ``id`` and
``properties.code`` set to the GB/T 2260 code and ``properties.name_zh`` / ``name_en`` from
``provinces.csv``. Decoded from echarts@4.9.0's ``map/json/china.json`` (Apache-2.0) by
``tools/build_china_geojson.py``; see ``geo/data/README.md`` for source, licence and the 审图号 caveat.

Rings follow RFC 7946 (exterior counter-clockwise). Plotly's ``go.Choropleth`` / ``px.choropleth``
(d3-geo underneath) expects the opposite winding and otherwise paints the outside of each shape: ask for
``load_china_geojson(winding="d3")`` there. Map-tile traces (``choropleth_map``) accept either.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from fintech_eval.geo.regions import provinces

Winding = Literal["rfc7946", "d3"]


@lru_cache(maxsize=2)
def load_china_geojson(winding: Winding = "rfc7946") -> dict[str, Any]:
    """The FeatureCollection as a dict, parsed once per ``winding`` and cached.

    The same object is returned on every call: treat it as read-only (``copy.deepcopy`` it to edit).
    ``winding="d3"`` reverses every ring, for plotly's geo choropleths and other d3-geo renderers.
    """
    if winding not in ("rfc7946", "d3"):
        raise ValueError(f"winding must be 'rfc7946' or 'd3', not {winding!r}")
    text = resources.files("fintech_eval.geo").joinpath("data/china.geojson").read_text(encoding="utf-8")
    collection = json.loads(text)
    if winding == "d3":
        for feature in collection["features"]:
            for polygon in _polygons(feature["geometry"]):
                for ring in polygon:
                    ring.reverse()
    return collection


def _polygons(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    """A Polygon's or MultiPolygon's coordinates as a list of polygons (lists of rings)."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    raise ValueError(f"unexpected geometry type {geometry['type']!r}")


def province_features(
    *, include_out_of_scope: bool = False, winding: Winding = "rfc7946"
) -> dict[str, dict[str, Any]]:
    """Code -> GeoJSON Feature, ordered by code: the 31 in-scope divisions, or all 34.

    The features are those of the cached :func:`load_china_geojson` (read-only).
    """
    wanted = set(provinces(include_out_of_scope=include_out_of_scope)["code"])
    features = load_china_geojson(winding)["features"]
    return {
        f["properties"]["code"]: f
        for f in sorted(features, key=lambda f: f["properties"]["code"])
        if f["properties"]["code"] in wanted
    }
