"""Geography of China for regional evaluations: province table, name resolution and boundary map."""

from fintech_eval.geo.china import load_china_geojson, province_features
from fintech_eval.geo.regions import provinces, resolve_many, resolve_province

__all__ = ["load_china_geojson", "province_features", "provinces", "resolve_many", "resolve_province"]
