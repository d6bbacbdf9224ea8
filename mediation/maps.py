"""What every map of the site needs, handed to `static/js/map.js` through `json_script`."""

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse


def map_config():
    """Tiles, attribution, default view, and the Leaflet files to load when a map is wanted."""
    leaflet = settings.LEAFLET_CONFIG
    return {
        "tiles": settings.MAP_TILE_URL,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
        "center": list(leaflet["DEFAULT_CENTER"]),
        "zoom": leaflet["DEFAULT_ZOOM"],
        "minZoom": leaflet["MIN_ZOOM"],
        "maxZoom": leaflet["MAX_ZOOM"],
        "outlines": reverse("territories:bassin_outlines"),
        # Loaded by the page's module only when the map is shown: phones that
        # never open the map download none of it.
        "assets": {
            "leafletJs": static("leaflet/leaflet.js"),
            "leafletCss": static("leaflet/leaflet.css"),
            "clusterJs": static("vendor/markercluster/leaflet.markercluster.js"),
            "clusterCss": static("vendor/markercluster/MarkerCluster.css"),
        },
    }
