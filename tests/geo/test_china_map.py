"""The packaged China province map (geo/data/china.geojson)."""

import json
from importlib import resources

import pytest

from fintech_eval.geo import load_china_geojson, province_features, provinces

DATA = resources.files("fintech_eval.geo").joinpath("data")
MAX_BYTES = 1_500_000
LON = (73.0, 136.0)
LAT = (3.0, 54.0)


def polygons(geometry):
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    assert geometry["type"] == "MultiPolygon"
    return geometry["coordinates"]


def signed_area(ring):
    return 0.5 * sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:], strict=False))


@pytest.fixture(scope="module")
def collection():
    return load_china_geojson()


def test_file_size_bound():
    size = len(DATA.joinpath("china.geojson").read_bytes())
    assert 50_000 < size < MAX_BYTES


def test_plain_feature_collection(collection):
    assert collection["type"] == "FeatureCollection"
    assert "UTF8Encoding" not in collection
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert set(feature["properties"]) == {"code", "name_zh", "name_en"}
        assert feature["id"] == feature["properties"]["code"]
        assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
        assert "encodeOffsets" not in feature["geometry"]


def test_each_in_scope_province_has_exactly_one_feature(collection):
    codes = [f["properties"]["code"] for f in collection["features"]]
    assert len(codes) == len(set(codes))
    table = provinces(include_out_of_scope=True)
    assert sorted(codes) == sorted(table["code"])
    in_scope = set(provinces()["code"])
    assert len(in_scope) == 31
    assert all(codes.count(code) == 1 for code in in_scope)


def test_feature_names_match_the_table(collection):
    table = provinces(include_out_of_scope=True).set_index("code")
    for feature in collection["features"]:
        p = feature["properties"]
        assert p["name_zh"] == table.loc[p["code"], "name_zh"]
        assert p["name_en"] == table.loc[p["code"], "name_en"]


def test_rings_closed_oriented_and_inside_china(collection):
    for feature in collection["features"]:
        for polygon in polygons(feature["geometry"]):
            assert polygon, feature["id"]
            for r, ring in enumerate(polygon):
                assert len(ring) >= 4
                assert ring[0] == ring[-1], f"{feature['id']} ring not closed"
                area = signed_area(ring)
                assert (area > 0) if r == 0 else (area < 0), f"{feature['id']} ring {r} wound wrong"
                for lon, lat in ring:
                    assert LON[0] <= lon <= LON[1] and LAT[0] <= lat <= LAT[1], (feature["id"], lon, lat)
                    assert round(lon, 4) == lon and round(lat, 4) == lat


def test_provinces_sit_where_they_should(collection):
    def bbox(feature):
        points = [p for poly in polygons(feature["geometry"]) for ring in poly for p in ring]
        lons, lats = [p[0] for p in points], [p[1] for p in points]
        return min(lons), min(lats), max(lons), max(lats)

    boxes = {f["id"]: bbox(f) for f in collection["features"]}
    x0, y0, x1, y1 = boxes["110000"]  # Beijing: 115.4-117.5 E, 39.4-41.1 N
    assert 115 < x0 < x1 < 118 and 39 < y0 < y1 < 41.5
    assert boxes["650000"][0] < 76  # Xinjiang reaches the far west
    assert boxes["230000"][3] > 53  # Heilongjiang the far north
    assert boxes["460000"][1] < 18.5  # Hainan the south


def test_loaded_once_and_cached():
    assert load_china_geojson() is load_china_geojson()


def test_d3_winding_is_reversed():
    d3 = load_china_geojson(winding="d3")
    std = load_china_geojson()
    assert d3 is not std
    ring_d3 = polygons(d3["features"][0]["geometry"])[0][0]
    ring_std = polygons(std["features"][0]["geometry"])[0][0]
    assert ring_d3 == ring_std[::-1]
    assert signed_area(ring_d3) < 0
    with pytest.raises(ValueError):
        load_china_geojson(winding="cw")


def test_province_features():
    features = province_features()
    assert list(features) == sorted(provinces()["code"])
    assert features["440000"]["properties"]["name_zh"] == "广东省"
    everything = province_features(include_out_of_scope=True)
    assert len(everything) == 34 and "810000" in everything


def test_file_is_json_with_features_one_per_line():
    text = DATA.joinpath("china.geojson").read_text(encoding="utf-8")
    assert json.loads(text)["features"]
    assert len(text.splitlines()) == 34 + 2


def _build_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "tools" / "build_china_geojson.py"
    spec = importlib.util.spec_from_file_location("build_china_geojson", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _encode(points, offset):
    """ECharts' encoder (the inverse of decode_ring), for the round trip."""
    out, prev = [], list(offset)
    for point in points:
        for i in (0, 1):
            delta = point[i] - prev[i]
            prev[i] = point[i]
            out.append(chr(((delta << 1) ^ (delta >> 31)) + 64))
    return "".join(out)


def test_decoder_round_trip_and_known_values():
    build = _build_script()
    assert build.decode_ring("@@", [116874, 41716]) == [[116874 / 1024, 41716 / 1024]]
    assert build.decode_ring("AB", [0, 0]) == [[-1 / 1024, 1 / 1024]]
    points = [[119712, 40641], [119700, 40700], [119650, 40690], [119712, 40641]]
    ring = build.decode_ring(_encode(points, [119712, 40641]), [119712, 40641])
    assert ring == [[x / 1024, y / 1024] for x, y in points]
    with pytest.raises(ValueError):
        build.decode_ring("@", [0, 0])


def test_build_from_a_tiny_echarts_document():
    build = _build_script()
    table = provinces(include_out_of_scope=True).to_dict("records")
    square = [[0, 0], [0, 1024], [1024, 1024], [1024, 0]]  # clockwise in source, as ECharts stores them
    features = []
    for row in table:
        base = [(int(row["code"][:2]) + 50) * 1024, 30 * 1024]
        ring = [[base[0] + x, base[1] + y] for x, y in square]
        features.append(
            {
                "type": "Feature",
                "id": row["code"],
                "properties": {"name": row["short_zh"]},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [_encode(ring, base)],
                    "encodeOffsets": [base],
                },
            }
        )
    out = build.build({"type": "FeatureCollection", "UTF8Encoding": True, "features": features}, table)
    assert [f["id"] for f in out["features"]] == sorted(r["code"] for r in table)
    beijing = out["features"][0]
    assert beijing["properties"] == {"code": "110000", "name_zh": "北京市", "name_en": "Beijing"}
    (ring,) = beijing["geometry"]["coordinates"]
    assert ring[0] == ring[-1] and len(ring) == 5 and signed_area(ring) > 0
    taiwan = next(f for f in out["features"] if f["id"] == "710000")
    assert taiwan["geometry"]["type"] == "MultiPolygon"  # the Diaoyu Island polygon is added
    features[0]["properties"]["name"] = "北平"
    with pytest.raises(ValueError, match="北平"):
        build.build({"type": "FeatureCollection", "UTF8Encoding": True, "features": features}, table)
