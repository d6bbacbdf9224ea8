"""Public pages of the directory."""

from django.views.generic import DetailView, TemplateView

from mediation.models import ServiceType, Structure


class HomeView(TemplateView):
    template_name = "mediation/home.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            structure_count=Structure.objects.published().count(),
            kinds=ServiceType.objects.all(),
            **kwargs,
        )


class StructureDetailView(DetailView):
    template_name = "mediation/structure_detail.html"
    context_object_name = "structure"

    def get_queryset(self):
        return (
            Structure.objects.published()
            .select_related("commune__bassin", "commune__department")
            .prefetch_related("kinds", "stops__commune")
        )


class ServiceTypeDetailView(DetailView):
    model = ServiceType
    template_name = "mediation/servicetype_detail.html"
    context_object_name = "kind"

    def get_context_data(self, **kwargs):
        structures = self.object.structures.published().select_related("commune")
        return super().get_context_data(structures=structures, **kwargs)
