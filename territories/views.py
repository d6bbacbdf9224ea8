"""Territory pages: bassins de vie and departments."""

from django.views.generic import DetailView, ListView

from territories.models import BassinDeVie, Department


class BassinListView(ListView):
    model = BassinDeVie
    template_name = "territories/bassin_list.html"
    context_object_name = "bassins"

    def get_queryset(self):
        return BassinDeVie.objects.select_related("department").defer("outline")


class BassinDetailView(DetailView):
    model = BassinDeVie
    template_name = "territories/bassin_detail.html"
    context_object_name = "bassin"

    def get_context_data(self, **kwargs):
        from mediation.models import Structure

        structures = Structure.objects.published().in_bassin(self.object).select_related("commune")
        return super().get_context_data(
            structures=structures, perimeter_note=BassinDeVie.PERIMETER_NOTE, **kwargs
        )


class DepartmentDetailView(DetailView):
    model = Department
    template_name = "territories/department_detail.html"
    context_object_name = "department"

    def get_context_data(self, **kwargs):
        bassins = self.object.bassins.defer("outline")
        return super().get_context_data(bassins=bassins, **kwargs)
