"""URLs of the partners' API, mounted at /api/v1/ (one router)."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path, re_path
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from mediation.api import views
from mediation.response_cache import cached

app_name = "api"

# Swagger UI sets inline styles; its scripts stay this site's own files.
explorer = csp_update({"style-src": [UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="api:schema")
)

# The schema changes only with the code: answered from the response cache, after
# the throttle (inside DRF's dispatch).
schema = method_decorator(cached, name="get")(SpectacularAPIView).as_view()

router = DefaultRouter()
router.include_format_suffixes = False
router.register("structures", views.StructureViewSet, basename="structure")
router.register("types", views.ServiceTypeViewSet, basename="type")
router.register("bassins", views.BassinViewSet, basename="bassin")
router.register("communes", views.CommuneViewSet, basename="commune")

urlpatterns = [
    # Before the router: "retraits" is not the id of a place.
    path("structures/retraits/", views.WithdrawalsView.as_view(), name="withdrawals"),
    path("", include(router.urls)),
    path("lieux-mediation-numerique.csv", views.StandardCSVView.as_view(), name="export-csv"),
    path("lieux-mediation-numerique.json", views.StandardJSONView.as_view(), name="export-json"),
    path("schema/", schema, name="schema"),
    path("explorer/", explorer, name="explorer"),
    path("documentation/", views.documentation, name="documentation"),
    re_path(r"^.*/$", views.unknown_address),  # last: a JSON 404 rather than an HTML page
]
