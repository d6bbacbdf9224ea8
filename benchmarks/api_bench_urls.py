"""The site's URLs plus the baseline of the comparison: a plain ModelSerializer + ListAPIView.

The baseline is not part of the public API: it only exists for benchmarks/api_speed.py,
serving the same rows (published structures, name order) the "obvious" DRF way, with
select_related/prefetch_related so that it is not a straw man.
"""

from django.urls import path
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination

from mediation.models import Structure
from mediation.urls import urlpatterns as site_urlpatterns


class PlainStructureSerializer(serializers.ModelSerializer):
    kinds = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    commune_name = serializers.CharField(source="commune.name", default=None)
    departement = serializers.CharField(source="commune.department_id", default=None)
    bassin = serializers.CharField(source="commune.bassin.slug", default=None)
    date_maj = serializers.DateField()

    class Meta:
        model = Structure
        exclude = ["proposed_by", "moderation_message", "import_note", "is_demo", "id"]


class PlainPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000


class PlainStructureList(ListAPIView):
    serializer_class = PlainStructureSerializer
    pagination_class = PlainPagination
    throttle_classes = []
    queryset = (
        Structure.objects.published()
        .select_related("commune__bassin")
        .prefetch_related("kinds")
        .order_by("name", "pk")
    )


urlpatterns = [
    *site_urlpatterns,
    path("bench/plain-structures/", PlainStructureList.as_view()),
]
