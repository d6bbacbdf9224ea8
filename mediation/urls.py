"""URLs of the site."""

import django.contrib.auth.admin  # noqa: F401  registers Group
from django.contrib import admin
from django.urls import include, path

import mediation.admin  # noqa: F401
import territories.admin  # noqa: F401
from mediation import views

site_patterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("lieux/<slug:slug>/", views.StructureDetailView.as_view(), name="structure"),
    path("types/<slug:slug>/", views.ServiceTypeDetailView.as_view(), name="service_type"),
]

urlpatterns = [
    path("", include((site_patterns, "mediation"))),
    path("territoires/", include("territories.urls")),
    path("admin/", admin.site.urls),
]
