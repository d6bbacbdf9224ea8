"""Admin of the territories. Moving a commune to another bassin is done here."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from territories.models import BassinDeVie, Commune, Department, Epci, TerritoryProject


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    exclude = ["outline"]


@admin.register(Epci)
class EpciAdmin(admin.ModelAdmin):
    list_display = ["name", "siren"]
    search_fields = ["name", "siren"]


@admin.register(BassinDeVie)
class BassinDeVieAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "pole_type"]
    list_filter = ["department", "pole_type"]
    search_fields = ["name"]
    autocomplete_fields = ["poles"]
    exclude = ["outline"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["name", "code_insee", "department", "bassin", "bassin_rule", "population"]
    list_filter = ["department", "bassin"]
    search_fields = ["name", "code_insee", "search_text"]
    list_select_related = ["department", "bassin"]
    autocomplete_fields = ["epci"]
    readonly_fields = ["bassin_rule"]
    fields = [
        "code_insee",
        "name",
        "postal_codes",
        "department",
        "epci",
        "bassin",
        "bassin_rule",
        ("latitude", "longitude"),
        "population",
    ]

    def save_model(self, request, obj, form, change):
        if change and "bassin" in form.changed_data:
            # The rule says where the assignment came from: now an administrator.
            obj.bassin_rule = "admin"
        super().save_model(request, obj, form, change)


@admin.register(TerritoryProject)
class TerritoryProjectAdmin(SimpleHistoryAdmin):
    list_display = ["bassin", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]
