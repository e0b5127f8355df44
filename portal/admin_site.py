"""The staff admin: the same allauth login and second factor; customer roles never enter."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.roles import STAFF_ROLES
from portal.tenancy import role_of


class PortalAdminSite(admin.AdminSite):
    site_header = _("Kundenportal – Verwaltung")
    site_title = _("Kundenportal – Verwaltung")
    index_title = _("Verwaltung")
    enable_nav_sidebar = True

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and user.is_verified()
            and (user.is_superuser or role_of(user) in STAFF_ROLES)
        )

    def login(self, request, extra_context=None):
        """No login form of its own: the portal's login, then the second factor."""
        if request.user.is_authenticated:
            if not request.user.is_verified():
                return HttpResponseRedirect(
                    f"{reverse('portal:mfa_verify')}?{urlencode({'next': request.path})}")
            raise PermissionDenied(_("Ihr Konto hat keinen Zugang zur Verwaltung."))
        next_url = request.GET.get("next") or reverse("admin:index")
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")

    def logout(self, request, extra_context=None):
        return HttpResponseRedirect(reverse("account_logout"))
