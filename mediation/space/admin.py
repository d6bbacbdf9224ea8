"""Admin of memberships, coordinations, invitations and join requests (regional administrators)."""

from django.contrib import admin

from mediation.admin import HistoryAdmin, PlaceSearchMixin
from mediation.models import (
    ApiToken,
    Campaign,
    CampaignMail,
    CampaignOptOut,
    Coordination,
    CoordinatorDigest,
    Invitation,
    JoinRequest,
    Membership,
    ProposedChange,
    VerificationReminder,
)


@admin.register(Membership)
class MembershipAdmin(PlaceSearchMixin, HistoryAdmin):
    list_display = ["user", "structure", "created_at"]
    search_fields = ["user__email", "user__last_name", "structure__name"]
    list_filter = ["structure__commune__bassin"]
    autocomplete_fields = ["user", "structure"]


@admin.register(Coordination)
class CoordinationAdmin(HistoryAdmin):
    list_display = ["user", "bassin", "created_at"]
    search_fields = ["user__email", "user__last_name", "bassin__name"]
    list_filter = ["bassin"]
    autocomplete_fields = ["user"]


@admin.register(Invitation)
class InvitationAdmin(PlaceSearchMixin, admin.ModelAdmin):
    list_display = ["email", "structure", "invited_by", "created_at", "expires_at", "accepted_at"]
    search_fields = ["email", "structure__name"]
    readonly_fields = [
        "email",
        "structure",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
    ]

    def has_add_permission(self, request):
        return False  # invitations are sent from the structure's page, with their e-mail


@admin.register(JoinRequest)
class JoinRequestAdmin(PlaceSearchMixin, admin.ModelAdmin):
    list_display = ["user", "structure", "state", "created_at", "decided_by"]
    list_filter = ["state"]
    search_fields = ["user__email", "structure__name"]
    autocomplete_fields = ["user", "structure"]


@admin.register(VerificationReminder)
class VerificationReminderAdmin(PlaceSearchMixin, admin.ModelAdmin):
    list_display = ["structure", "sent_at", "recipients"]
    search_fields = ["structure__name", "recipients"]


@admin.register(CoordinatorDigest)
class CoordinatorDigestAdmin(admin.ModelAdmin):
    list_display = ["user", "sent_at", "places"]
    search_fields = ["user__email"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["__str__", "created_by", "created_at"]
    readonly_fields = ["created_at", "created_by", "bassins"]

    def has_add_permission(self, request):
        return False  # launched from Mon espace or send_update_campaign, with their mails


@admin.register(CampaignMail)
class CampaignMailAdmin(PlaceSearchMixin, admin.ModelAdmin):
    list_display = ["structure", "email", "campaign", "sent", "outcome", "answered_at"]
    list_filter = ["outcome", "sent"]
    search_fields = ["structure__name", "email"]
    exclude = ["nonce"]
    readonly_fields = ["campaign", "structure", "email", "sent_at", "expires_at"]


@admin.register(CampaignOptOut)
class CampaignOptOutAdmin(admin.ModelAdmin):
    list_display = ["email", "created_at"]
    search_fields = ["email"]


@admin.register(ProposedChange)
class ProposedChangeAdmin(PlaceSearchMixin, admin.ModelAdmin):
    list_display = ["structure", "created_at", "state", "decided_by"]
    list_filter = ["state"]
    search_fields = ["structure__name"]
    readonly_fields = ["structure", "campaign_mail", "data", "changes", "created_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their owners in "Mon espace"; here they can only be revoked."""

    list_display = ["name", "user", "prefix", "expires_at", "last_used_at"]
    search_fields = ["name", "user__email", "prefix"]
    readonly_fields = ["user", "name", "prefix", "created_at", "expires_at", "last_used_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
