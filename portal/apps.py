from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal: Organisationen, Personen, Protokolle")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.registries import autodiscover

        autodiscover()


class PortalAdminConfig(AdminConfig):
    """The Django admin, with the portal's MFA-enforcing admin site as the default site."""

    default_site = "portal.admin_site.PortalAdminSite"
