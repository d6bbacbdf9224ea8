"""Output formats: JSON (orjson), GeoJSON, and the national standard's CSV/JSON."""

import orjson
from django.utils.encoding import force_str
from rest_framework.renderers import BaseRenderer, JSONRenderer

from mediation import exporters


def _default(value):
    # Lazy translations (error messages) and anything else orjson does not know.
    return force_str(value)


def dumps(data):
    return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)


class OrjsonRenderer(JSONRenderer):
    """application/json, encoded by orjson (several times faster than json)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return dumps(data)


class GeoJSONRenderer(BaseRenderer):
    """A FeatureCollection (RFC 7946) of the rows given by the view."""

    media_type = "application/geo+json"
    format = "geojson"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, list):
            data = exporters.feature_collection(data)
        return dumps(data)


class GeoJSONAsJSONRenderer(GeoJSONRenderer):
    """The same FeatureCollection for a client that only asks for application/json."""

    media_type = "application/json"
    format = "json"


class StandardCSVRenderer(BaseRenderer):
    """The standard 1.0.2 as CSV: 32 columns in order, "|" between values, UTF-8."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return exporters.standard_csv(data).encode("utf-8")


class StandardJSONRenderer(BaseRenderer):
    """The standard 1.0.2 as a JSON array of objects (same columns as the CSV)."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, list):
            return exporters.standard_json(data)
        return dumps(data)
