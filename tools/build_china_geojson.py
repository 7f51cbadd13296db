#!/usr/bin/env python3
"""Build ``src/fintech_eval/geo/data/china.geojson`` from ECharts' encoded China map.

Source: the npm package ``echarts@4.9.0`` (Apache-2.0) ships ``map/json/china.json``, 34 province-level
features named by short Chinese name (广东, 新疆, 内蒙古, ...), with coordinates in ECharts' compressed
"UTF8Encoding" format. Fetch it into a scratch directory outside the repository, then run this script::

    cd /tmp && npm pack echarts@4.9.0 && tar xzf echarts-4.9.0.tgz package/map/json/china.json
    python tools/build_china_geojson.py /tmp/package/map/json/china.json

What the script does, in order:

1. decodes every ring (:func:`decode_ring`, a port of ECharts' ``parseGeoJson.decodePolygon``);
2. maps each feature's short name to its GB/T 2260 code using ``geo/data/provinces.csv`` and checks it
   against the feature's own ``id`` (a mismatch or an unknown name stops the build);
3. adds the Diaoyu Island polygon to Taiwan, as ECharts itself does at render time
   (``lib/coord/geo/fix/diaoyuIsland.js``). ECharts' 南海诸岛 inset (``fix/nanhai.js``) is a schematic box
   drawn at lon 126 / lat 25, not geography, so it is *not* added; a real 南海诸岛 feature, should a later
   source file carry one, is merged into Hainan (460000, whose 三沙市 administers those islands);
4. rounds coordinates to 4 decimals (the source is quantised at 1/1024 degree, about 0.001, so nothing
   is lost), drops repeated points, closes every ring and winds it the RFC 7946 way (exterior
   counter-clockwise);
5. writes a plain GeoJSON FeatureCollection, features sorted by code, one feature per line, each with
   ``id`` = code and properties ``{code, name_zh, name_en}``. The output is deterministic: running the
   script again on the same input gives the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "src" / "fintech_eval" / "geo" / "data"
DEFAULT_OUT = DATA / "china.geojson"
PROVINCES_CSV = DATA / "provinces.csv"

DECIMALS = 4
SOURCE = "echarts@4.9.0 map/json/china.json (Apache-2.0), decoded by tools/build_china_geojson.py"

# ECharts adds this rectangle to 台湾 when it draws the "china" map (lib/coord/geo/fix/diaoyuIsland.js).
DIAOYU_RING = [
    [123.45165252685547, 25.73527164402261],
    [123.49731445312499, 25.73527164402261],
    [123.49731445312499, 25.750734064600884],
    [123.45165252685547, 25.750734064600884],
    [123.45165252685547, 25.73527164402261],
]
TAIWAN = "710000"
HAINAN = "460000"
NANHAI_NAMES = {"南海诸岛", "南海諸島"}


def decode_ring(encoded: str, offset: list[int] | tuple[int, int], scale: float = 1024) -> list[list[float]]:
    """Decode one ECharts-encoded ring into ``[[lon, lat], ...]`` degrees.

    The string holds two characters per point, x then y. Each character's code minus 64 is a
    zigzag-encoded integer ``v`` (``(v >> 1) ^ -(v & 1)`` gives the signed value), which is the delta from
    the previous point; the first delta is from ``offset`` (the ring's ``encodeOffsets`` entry). The
    running integer sum divided by ``scale`` (``UTF8Scale``, default 1024) is the coordinate.
    """
    if len(encoded) % 2:
        raise ValueError(f"encoded ring has an odd number of characters ({len(encoded)})")
    x, y = int(offset[0]), int(offset[1])
    points: list[list[float]] = []
    for i in range(0, len(encoded), 2):
        dx = ord(encoded[i]) - 64
        dy = ord(encoded[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        points.append([x / scale, y / scale])
    return points


def decode_geometry(geometry: dict, scale: float) -> list[list[list[list[float]]]]:
    """Decode a Polygon or MultiPolygon into MultiPolygon coordinates (a list of polygons of rings)."""
    kind, coords, offsets = geometry["type"], geometry["coordinates"], geometry["encodeOffsets"]
    if kind == "Polygon":
        return [[decode_ring(ring, offsets[r], scale) for r, ring in enumerate(coords)]]
    if kind == "MultiPolygon":
        return [
            [decode_ring(ring, offsets[p][r], scale) for r, ring in enumerate(polygon)]
            for p, polygon in enumerate(coords)
        ]
    raise ValueError(f"unsupported geometry type {kind!r}")


def _signed_area(ring: list[list[float]]) -> float:
    """Shoelace area in degree units: positive when the ring runs counter-clockwise."""
    return 0.5 * sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1))


def clean_ring(ring: list[list[float]], exterior: bool) -> list[list[float]] | None:
    """Round, drop repeated points, close, and orient one ring; ``None`` when it has no area left."""
    out: list[list[float]] = []
    for lon, lat in ring:
        point = [round(lon, DECIMALS), round(lat, DECIMALS)]
        if not out or point != out[-1]:
            out.append(point)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    if len(out) < 3:
        return None
    out.append(list(out[0]))
    area = _signed_area(out)
    if area == 0:
        return None
    if (area > 0) != exterior:  # RFC 7946: exterior counter-clockwise, holes clockwise
        out.reverse()
    return out


def clean_polygons(polygons: list[list[list[list[float]]]]) -> list[list[list[list[float]]]]:
    cleaned = []
    for polygon in polygons:
        rings = [clean_ring(ring, exterior=(r == 0)) for r, ring in enumerate(polygon)]
        if rings and rings[0] is not None:
            cleaned.append([rings[0], *(ring for ring in rings[1:] if ring is not None)])
    return cleaned


def read_provinces(path: Path = PROVINCES_CSV) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def build(source: dict, provinces: list[dict[str, str]]) -> dict:
    """Turn the decoded ECharts document into our FeatureCollection (pure: no file access)."""
    if not source.get("UTF8Encoding"):
        raise ValueError("expected an ECharts-encoded map (UTF8Encoding: true)")
    scale = source.get("UTF8Scale") or 1024
    by_short = {row["short_zh"]: row for row in provinces}
    by_code = {row["code"]: row for row in provinces}
    geometries: dict[str, list] = {}
    problems: list[str] = []
    for feature in source["features"]:
        props = feature.get("properties") or {}
        name = props.get("name", "")
        if name in NANHAI_NAMES:
            code = HAINAN
        elif name in by_short:
            code = by_short[name]["code"]
            fid = str(feature.get("id") or props.get("id") or code)
            if fid != code:
                problems.append(f"feature {name!r} has id {fid}, but provinces.csv gives {code}")
        else:
            problems.append(f"feature name {name!r} is not a short name in provinces.csv")
            continue
        geometries.setdefault(code, []).extend(decode_geometry(feature["geometry"], scale))
    if TAIWAN in geometries:
        geometries[TAIWAN].append([[list(p) for p in DIAOYU_RING]])
    missing = sorted(set(by_code) - set(geometries))
    if missing:
        problems.append(f"no feature for {', '.join(missing)}")
    if problems:
        raise ValueError("; ".join(problems))

    features = []
    for code in sorted(geometries):
        polygons = clean_polygons(geometries[code])
        geometry = (
            {"type": "Polygon", "coordinates": polygons[0]}
            if len(polygons) == 1
            else {"type": "MultiPolygon", "coordinates": polygons}
        )
        row = by_code[code]
        features.append(
            {
                "type": "Feature",
                "id": code,
                "properties": {"code": code, "name_zh": row["name_zh"], "name_en": row["name_en"]},
                "geometry": geometry,
            }
        )
    return {"type": "FeatureCollection", "source": SOURCE, "features": features}


def dumps(collection: dict) -> str:
    """Compact JSON, one feature per line (readable diffs), UTF-8 names, trailing newline."""

    def one(obj: object) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    head = {k: v for k, v in collection.items() if k != "features"}
    lines = ",\n".join(one(f) for f in collection["features"])
    return one(head)[:-1] + ',"features":[\n' + lines + "\n]}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="path to echarts@4.9.0's map/json/china.json")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = parser.parse_args(argv)
    source = json.loads(args.source.read_text(encoding="utf-8"))
    try:
        collection = build(source, read_provinces())
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = dumps(collection)
    args.output.write_text(text, encoding="utf-8")
    n_points = sum(
        len(ring)
        for f in collection["features"]
        for poly in (
            [f["geometry"]["coordinates"]]
            if f["geometry"]["type"] == "Polygon"
            else f["geometry"]["coordinates"]
        )
        for ring in poly
    )
    size = len(text.encode("utf-8"))
    print(f"wrote {args.output}: {len(collection['features'])} features, {n_points} points, {size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
