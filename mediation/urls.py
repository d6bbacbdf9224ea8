"""URLs of the site."""

import django.contrib.auth.admin  # noqa: F401  registers Group
import django_otp.plugins.otp_static.admin
import django_otp.plugins.otp_totp.admin  # noqa: F401
from django.contrib import admin
from django.urls import include, path

import mediation.admin
import mediation.space.admin  # noqa: F401
import territories.admin  # noqa: F401
from mediation import health, markers, views
from mediation.response_cache import cached

site_patterns = [
    path("", views.home, name="home"),
    path("carte/lieux.json", markers.markers, name="markers"),
    path("lieux/<slug:slug>/", views.StructureDetailView.as_view(), name="structure"),
    path("lieux/<slug:slug>/signaler/", views.report_error, name="report_error"),
    path("types/", cached(views.ServiceTypeListView.as_view()), name="service_types"),
    path("types/<slug:slug>/", cached(views.ServiceTypeDetailView.as_view()), name="service_type"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("mentions-legales/", views.legal, name="legal"),
]

urlpatterns = [
    path("", include((site_patterns, "mediation"))),
    path("favicon.ico", views.favicon),
    path("healthz", health.healthz, name="healthz"),
    path("territoires/", include("territories.urls")),
    path("espace/", include("mediation.space.urls")),
    path("api/v1/", include("mediation.api.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "mediation.errors.server_error"
