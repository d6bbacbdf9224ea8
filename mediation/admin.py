"""Admin of the structures domain: search, filters, a map to place each point."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from simple_history.admin import SimpleHistoryAdmin

from mediation import kind_check
from mediation.duplicates import probable_duplicates
from mediation.maps import map_config
from mediation.models import (
    DistinctPair,
    ErrorReport,
    ImportConflict,
    Merge,
    ServiceType,
    SourceIdentifier,
    Stop,
    Structure,
    User,
)

admin.site.site_header = "Médiation numérique Centre-Val de Loire — administration"
admin.site.site_title = "Administration"
admin.site.index_title = "Tableau de bord"


class HistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's admin, whose history page shows no "None" as a reason."""

    NO_REASON = "—"

    def set_history_delta_changes(self, request, historical_records, *args, **kwargs):
        super().set_history_delta_changes(request, historical_records, *args, **kwargs)
        for record in historical_records:
            if not record.history_change_reason:
                record.history_change_reason = self.NO_REASON


class PlaceSearchMixin:
    """Admin search where "chateauroux" finds "Châteauroux" and "mediatheque" finds
    "Médiathèque": the usual search, plus the places `Structure.objects.matching()` finds.

    `place_path` leads from the admin's model to its place ("pk" for a place itself).
    """

    place_path = "structure"

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            places = Structure.objects.matching(search_term).values("pk")
            lookup = "pk__in" if self.place_path == "pk" else f"{self.place_path}__in"
            results = results | queryset.filter(**{lookup: places})
        return results, may_have_duplicates


class PointMapMixin:
    """Shows a Leaflet map above the latitude/longitude inputs: click or drag to place."""

    change_form_template = "admin/point_change_form.html"

    def render_change_form(self, request, context, *args, **kwargs):
        context["map_config"] = map_config()
        return super().render_change_form(request, context, *args, **kwargs)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Identité", {"fields": ["first_name", "last_name"]}),
        (
            "Droits",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(ServiceType)
class ServiceTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "order"]
    list_editable = ["order"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "description"]


class StopInline(admin.StackedInline):
    model = Stop
    extra = 0
    autocomplete_fields = ["commune"]


class BassinFilter(admin.SimpleListFilter):
    title = "bassin de vie"
    parameter_name = "bassin"

    def lookups(self, request, model_admin):
        from territories.models import BassinDeVie

        return [(b.slug, b.name) for b in BassinDeVie.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(commune__bassin__slug=self.value())
        return queryset


class DepartmentFilter(admin.SimpleListFilter):
    title = "département"
    parameter_name = "departement"

    def lookups(self, request, model_admin):
        from territories.models import Department

        return [(d.code, str(d)) for d in Department.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(commune__department=self.value())
        return queryset


class SourceIdentifierInline(admin.TabularInline):
    """The other sources' identifiers a merged place answers to on import."""

    model = SourceIdentifier
    extra = 0
    verbose_name_plural = "autres identifiants de source (fiches fusionnées)"


class KindToCheckFilter(admin.SimpleListFilter):
    title = "type à vérifier"
    parameter_name = "type_a_verifier"

    def lookups(self, request, model_admin):
        return [("oui", "Le nom contredit le type")]

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.kind_to_check()
        return queryset


class PersonalContactFilter(admin.SimpleListFilter):
    """Places whose e-mail or phone looks like a person's own (see `personal_data`)."""

    title = "contact personnel ?"
    parameter_name = "contact_personnel"

    def lookups(self, request, model_admin):
        return [("oui", "À vérifier (grand public, mobile)"), ("confirme", "Confirmé public")]

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.with_personal_contact()
        if self.value() == "confirme":
            return queryset.filter(public_contact_confirmed=True)
        return queryset


@admin.register(Structure)
class StructureAdmin(PlaceSearchMixin, PointMapMixin, HistoryAdmin):
    place_path = "pk"
    list_display = [
        "name",
        "city",
        "bassin_name",
        "kinds_list",
        "kind_doubt",
        "status",
        "personal_contact",
        "is_demo",
        "updated_at",
    ]
    list_filter = [
        "status",
        "kinds",
        KindToCheckFilter,
        BassinFilter,
        DepartmentFilter,
        PersonalContactFilter,
        "is_demo",
        "source",
    ]
    search_fields = ["name", "city", "postal_code", "code_insee", "address", "pivot", "source_id"]
    autocomplete_fields = ["commune"]
    filter_horizontal = ["kinds"]
    readonly_fields = [
        "uid",
        "created_at",
        "updated_at",
        "kind_doubt",
        "deduced_values",
        "information_updated_at",
    ]
    list_select_related = ["commune__bassin"]
    inlines = [StopInline, SourceIdentifierInline]
    actions = ["publish", "archive", "confirm_public_contact"]
    fieldsets = [
        (
            "Identité",
            {
                "fields": [
                    "name",
                    "slug",
                    "kinds",
                    "kind_doubt",
                    "pivot",
                    "parent_structure",
                    "typologie",
                ]
            },
        ),
        (
            "Adresse",
            {
                "fields": [
                    "address",
                    "address_complement",
                    "postal_code",
                    "city",
                    "code_insee",
                    "commune",
                    ("latitude", "longitude"),
                ]
            },
        ),
        ("Contact", {"fields": ["phone", "emails", "websites", "appointment_url"]}),
        ("Présentation", {"fields": ["summary", "description"]}),
        ("Horaires", {"fields": ["opening_hours", "opening_hours_note"]}),
        (
            "Offre",
            {
                "fields": [
                    "services",
                    "publics",
                    "specific_support",
                    "fees",
                    "national_programmes",
                    "labels",
                    "other_labels",
                    "access_modes",
                    "support_modes",
                    "itinerance",
                    "deduced_values",
                ]
            },
        ),
        (
            "Accessibilité et équipements",
            {
                "fields": [
                    "wheelchair_accessible",
                    "accessibility_note",
                    "acceslibre_url",
                    "equipment",
                    "equipment_note",
                ]
            },
        ),
        (
            "Publication et provenance",
            {
                "fields": [
                    "status",
                    "verified_at",
                    "information_updated_at",
                    "public_contact_confirmed",
                    "source",
                    "source_id",
                    "is_demo",
                    "import_note",
                    "uid",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    change_list_template = "admin/mediation/structure/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("kinds")

    def get_urls(self):
        view = self.admin_site.admin_view(self.duplicates_view)
        return [
            path("doublons/", view, name="mediation_structure_duplicates"),
            *super().get_urls(),
        ]

    def duplicates_view(self, request):
        """Probable duplicates, for a person to decide (archive one, or leave both)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        pairs = probable_duplicates()
        context = {
            **self.admin_site.each_context(request),
            "title": "Doublons probables",
            "opts": self.model._meta,
            "pairs": pairs,
            "across_sources": sum(not pair.same_source for pair in pairs),
        }
        return TemplateResponse(request, "admin/mediation/structure/duplicates.html", context)

    @admin.display(description="bassin de vie", ordering="commune__bassin__name")
    def bassin_name(self, obj):
        return obj.commune.bassin.name if obj.commune_id else "—"

    @admin.display(description="types")
    def kinds_list(self, obj):
        return ", ".join(kind.short_name for kind in obj.kinds.all())

    @admin.display(description="type à vérifier")
    def kind_doubt(self, obj):
        """The kinds the name implies but the place lacks (see mediation/kind_check.py)."""
        if obj.pk is None:
            return ""
        missing = kind_check.kinds_to_check(obj.name, [kind.slug for kind in obj.kinds.all()])
        if not missing:
            return ""
        names = ", ".join(f"« {kind_check.kind_label(slug)} »" for slug in missing)
        return f"Type à vérifier : le nom évoque {names}"

    @admin.display(description="valeurs déduites, à confirmer")
    def deduced_values(self, obj):
        lines = [
            f"{Structure._meta.get_field(name).verbose_name} : {value} (déduit de {source})"
            for name in Structure.DEDUCIBLE_FIELDS
            for value, source in obj.deduced_sources(name).items()
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "—"

    @admin.display(description="contact personnel ?")
    def personal_contact(self, obj):
        return " ; ".join(obj.personal_contact_reasons()) or "—"

    @admin.action(description="Confirmer : c’est le contact public du lieu")
    def confirm_public_contact(self, request, queryset):
        count = 0
        for structure in queryset.filter(public_contact_confirmed=False):
            structure.public_contact_confirmed = True
            structure._history_user = request.user
            structure.save(update_fields=["public_contact_confirmed", "updated_at"])
            count += 1
        self.message_user(request, f"{count} contact(s) confirmé(s) comme public(s).")

    @admin.action(description="Publier les structures sélectionnées")
    def publish(self, request, queryset):
        self._set_status(request, queryset, Structure.Status.PUBLISHED)

    @admin.action(description="Archiver les structures sélectionnées")
    def archive(self, request, queryset):
        self._set_status(request, queryset, Structure.Status.ARCHIVED)

    def _set_status(self, request, queryset, status):
        # One save per structure so that the history records who changed what.
        count = 0
        for structure in queryset:
            structure.status = status
            structure.save(update_fields=["status", "updated_at"])
            count += 1
        self.message_user(request, f"{count} structure(s) mise(s) à jour.")


@admin.register(Stop)
class StopAdmin(PlaceSearchMixin, PointMapMixin, HistoryAdmin):
    list_display = ["place", "commune", "structure", "opening_hours"]
    search_fields = ["place", "address", "commune__name", "structure__name"]
    list_filter = ["commune__department", "commune__bassin"]
    autocomplete_fields = ["structure", "commune"]


@admin.register(ErrorReport)
class ErrorReportAdmin(PlaceSearchMixin, admin.ModelAdmin):
    list_display = ["structure", "created_at", "state", "handled_by", "email"]
    list_filter = ["state", "structure__commune__bassin"]
    search_fields = ["message", "structure__name", "email"]
    autocomplete_fields = ["structure"]
    readonly_fields = ["created_at", "handled_at", "handled_by"]


@admin.register(Merge)
class MergeAdmin(admin.ModelAdmin):
    """Merges done on the duplicates screen: read only (the history keeps the detail)."""

    list_display = ["merged", "survivor", "merged_by", "merged_at"]
    search_fields = ["merged__name", "survivor__name", "merged_slug"]
    readonly_fields = ["survivor", "merged", "merged_slug", "picks", "merged_by", "merged_at"]

    def has_add_permission(self, request):
        return False


@admin.register(DistinctPair)
class DistinctPairAdmin(admin.ModelAdmin):
    """Pairs marked "pas un doublon"; deleting one lists the pair again."""

    list_display = ["first", "second", "decided_by", "decided_at"]
    search_fields = ["first__name", "second__name"]
    readonly_fields = ["first", "second", "decided_by", "decided_at"]

    def has_add_permission(self, request):
        return False


@admin.register(ImportConflict)
class ImportConflictAdmin(admin.ModelAdmin):
    """Fields a person changed that a later import wanted to change: a coordinator chooses."""

    list_display = [
        "structure",
        "field_label",
        "kept_shown",
        "source_shown",
        "changed_by",
        "changed_at",
        "state",
    ]
    list_filter = ["state", "source", "structure__commune__bassin"]
    search_fields = ["structure__name", "field"]
    list_select_related = ["structure", "changed_by"]
    readonly_fields = [
        "structure",
        "field",
        "source",
        "source_value",
        "kept_value",
        "changed_by",
        "changed_at",
        "detected_at",
        "state",
        "decided_by",
        "decided_at",
    ]
    actions = ["take_source", "keep_person"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="champ")
    def field_label(self, conflict):
        return conflict.field_label

    @admin.display(description="valeur gardée (personne)")
    def kept_shown(self, conflict):
        return _shown(conflict.kept_value)

    @admin.display(description="valeur du fichier")
    def source_shown(self, conflict):
        return _shown(conflict.source_value)

    @admin.action(description="Appliquer la valeur du fichier")
    def take_source(self, request, queryset):
        self._decide(request, queryset, take_source=True)

    @admin.action(description="Garder la valeur de la personne")
    def keep_person(self, request, queryset):
        self._decide(request, queryset, take_source=False)

    def _decide(self, request, queryset, *, take_source):
        done, failed = 0, []
        for conflict in queryset.filter(state=ImportConflict.State.PENDING):
            try:
                conflict.decide(take_source=take_source, user=request.user)
                done += 1
            except ValidationError as error:
                failed.append(f"{conflict} : {' '.join(error.messages)}")
        self.message_user(
            request, f"{done} conflit{'s' if done > 1 else ''} tranché{'s' if done > 1 else ''}."
        )
        for message in failed:
            self.message_user(request, message, level=messages.ERROR)


def _shown(value):
    if isinstance(value, list):
        return " | ".join(str(v) for v in value) or "—"
    return "—" if value in (None, "") else str(value)
