"""URLs of the territory pages."""

from django.urls import path

from mediation.response_cache import cached
from territories import views

app_name = "territories"

# Pages and documents the same for every visitor are answered from the response
# cache (mediation/response_cache.py); the project form and the PDFs are not.
urlpatterns = [
    path("bassins/", cached(views.BassinListView.as_view()), name="bassins"),
    path("bassins/comparaison/", cached(views.bassin_comparison), name="bassin_comparison"),
    path(
        "bassins/comparaison.csv", cached(views.bassin_comparison_csv), name="bassin_comparison_csv"
    ),
    path("bassins/<slug:slug>/", cached(views.BassinDetailView.as_view()), name="bassin"),
    path("bassins/<slug:slug>/projet/", views.project_edit, name="project_edit"),
    path("bassins/<slug:slug>/livret.pdf", views.bassin_booklet, name="bassin_booklet"),
    path("communes/<str:code_insee>/affiche.pdf", views.commune_poster, name="commune_poster"),
    path(
        "departements/<slug:slug>/", cached(views.DepartmentDetailView.as_view()), name="department"
    ),
    path("bassins.geojson", cached(views.bassin_outlines), name="bassin_outlines"),
    path(
        "communes/suggestions.json", cached(views.commune_suggestions), name="commune_suggestions"
    ),
]
