"""URLs of the territory pages."""

from django.urls import path

from territories import views

app_name = "territories"

urlpatterns = [
    path("bassins/", views.BassinListView.as_view(), name="bassins"),
    path("bassins/comparaison/", views.bassin_comparison, name="bassin_comparison"),
    path("bassins/comparaison.csv", views.bassin_comparison_csv, name="bassin_comparison_csv"),
    path("bassins/<slug:slug>/", views.BassinDetailView.as_view(), name="bassin"),
    path("bassins/<slug:slug>/projet/", views.project_edit, name="project_edit"),
    path("bassins/<slug:slug>/livret.pdf", views.bassin_booklet, name="bassin_booklet"),
    path("communes/<str:code_insee>/affiche.pdf", views.commune_poster, name="commune_poster"),
    path("departements/<slug:slug>/", views.DepartmentDetailView.as_view(), name="department"),
    path("bassins.geojson", views.bassin_outlines, name="bassin_outlines"),
    path("communes/suggestions.json", views.commune_suggestions, name="commune_suggestions"),
]
