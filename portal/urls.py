"""URLs: the customer portal, the device inventory, the contract, accounts (allauth), MFA,
the staff admin and /healthz."""

from django.contrib import admin
from django.urls import include, path

from portal.documents.views import document_download
from portal.views import account, dashboard, health, mfa, team

app_name = "portal"

portal_patterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("team/", team.team, name="team"),
    path("team/einladen/", team.invite, name="team_invite"),
    path("team/<int:user_id>/deaktivieren/", team.deactivate, name="team_deactivate"),
    path("team/<int:user_id>/reaktivieren/", team.reactivate, name="team_reactivate"),
    path("konto/sicherheit/", mfa.security, name="security"),
    path("konto/sicherheit/bestaetigen/", mfa.reauthenticate, name="reauthenticate"),
    path("konto/sicherheit/backup-codes/", mfa.backup_codes_regenerate,
         name="backup_codes_regenerate"),
    path("konto/sicherheit/geraet/<int:device_id>/entfernen/", mfa.device_remove,
         name="device_remove"),
    path("konto/2fa/einrichten/", mfa.mfa_enrol, name="mfa_enrol"),
    path("konto/2fa/pruefen/", mfa.mfa_verify, name="mfa_verify"),
    path("einladung/<str:token>/", account.invitation_accept_view,
         name="invitation_accept"),
    path("sprache/", account.language_switch, name="language_switch"),
    path("dokumente/<int:pk>/", document_download, name="document_download"),
    path("healthz", health.healthz, name="healthz"),
]

urlpatterns = [
    path("", include((portal_patterns, "portal"))),
    path("geraete/", include("devices.urls")),
    path("vertrag/", include("contracts.urls")),
    path("datenschutz/", include("gdpr.urls")),
    path("konto/", include("allauth.account.urls")),
    path("admin/", admin.site.urls),
]
