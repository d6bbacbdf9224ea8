"""URLs of the mediators' space and of accounts, under /espace/."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from mediation.space import (
    accounts,
    campaign,
    dashboard,
    duplicate_views,
    second_factor_views,
    views,
)

app_name = "space"

account_patterns = [
    path(
        "connexion/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "mot-de-passe/oublie/",
        accounts.PasswordResetView.as_view(
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
            extra_email_context={"site_name": settings.SITE_NAME},
            success_url=reverse_lazy("space:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "mot-de-passe/oublie/envoye/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(
            success_url=reverse_lazy("space:password_reset_complete")
        ),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/nouveau/fait/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "mot-de-passe/changer/",
        auth_views.PasswordChangeView.as_view(
            success_url=reverse_lazy("space:password_change_done")
        ),
        name="password_change",
    ),
    path(
        "mot-de-passe/change/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

urlpatterns = [
    *account_patterns,
    path("", views.home, name="home"),
    path("double-authentification/", second_factor_views.manage, name="second_factor"),
    path(
        "double-authentification/verifier/",
        second_factor_views.verify,
        name="second_factor_verify",
    ),
    path(
        "double-authentification/configurer/",
        second_factor_views.setup,
        name="second_factor_setup",
    ),
    path(
        "double-authentification/codes-de-secours/",
        second_factor_views.recovery_codes,
        name="second_factor_recovery_codes",
    ),
    path(
        "double-authentification/desactiver/",
        second_factor_views.turn_off,
        name="second_factor_off",
    ),
    path("compte/supprimer/", views.account_delete, name="account_delete"),
    path("jetons/", views.api_tokens, name="api_tokens"),
    path("jetons/<int:pk>/revoquer/", views.api_token_revoke, name="api_token_revoke"),
    path("proposer/", views.structure_propose, name="propose"),
    path("adresse/", views.geocode, name="geocode"),
    path("structures/<int:pk>/modifier/", views.structure_edit, name="edit"),
    path("structures/<int:pk>/verifier/", views.structure_verify, name="verify"),
    path("structures/<int:pk>/publier/", views.structure_publish, name="publish"),
    path("structures/<int:pk>/archiver/", views.structure_archive, name="archive"),
    path("structures/<int:pk>/supprimer/", views.structure_delete, name="delete"),
    path("structures/<int:pk>/historique/", views.structure_history, name="history"),
    path(
        "structures/<int:pk>/historique/<int:history_id>/restaurer/",
        views.structure_restore,
        name="restore",
    ),
    path("structures/<int:pk>/inviter/", views.structure_invite, name="invite"),
    path("structures/<int:pk>/gerer/", views.structure_join, name="join"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("moderation/", views.moderation, name="moderation"),
    path("tableau-de-bord/", dashboard.dashboard, name="dashboard"),
    path("doublons/", duplicate_views.duplicate_list, name="duplicates"),
    path(
        "doublons/<int:first_pk>-<int:second_pk>/",
        duplicate_views.duplicate_pair,
        name="duplicate_pair",
    ),
    path("moderation/demandes/<int:pk>/", views.decide_join_request, name="decide_join"),
    path("moderation/propositions/<int:pk>/", views.decide_proposal, name="decide_proposal"),
    path("moderation/signalements/<int:pk>/", views.handle_report, name="handle_report"),
    path("moderation/corrections/<int:pk>/", campaign.decide_correction, name="decide_correction"),
    path("campagnes/lancer/", campaign.campaign_launch, name="campaign_launch"),
    path("campagnes/<int:pk>/", campaign.campaign_report, name="campaign_report"),
    path("mise-a-jour/<str:token>/", campaign.campaign, name="campaign"),
    path("mise-a-jour/<str:token>/corriger/", campaign.campaign_correct, name="campaign_correct"),
    path("mise-a-jour/<str:token>/adresse/", campaign.campaign_geocode, name="campaign_geocode"),
    path(
        "mise-a-jour/<str:token>/mediateur/",
        campaign.campaign_mediator,
        name="campaign_mediator",
    ),
    path(
        "desinscription/<str:token>/",
        campaign.campaign_unsubscribe,
        name="campaign_unsubscribe",
    ),
]
