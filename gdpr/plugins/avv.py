"""The customer portal's "Datenschutz" pages in the core: the navigation entry (customer
roles and partner support) and the banner on every page until the logged-in customer admin
has accepted the current AVV version (portal/registries.py)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.registries import Banner, NavItem, banners, navigation
from portal.roles import CUSTOMER_ROLES, Role


def _sees_privacy_pages(membership) -> bool:
    return membership is not None and (membership.role in CUSTOMER_ROLES
                                       or membership.role == Role.PARTNER_SUPPORT)


def _avv_banner(request) -> dict | None:
    from gdpr.selectors.avv import avv_label_to_accept

    label = avv_label_to_accept(request.user)
    if label is None:
        return None
    return {"message": _("Bitte nehmen Sie die neue AVV-Version %(label)s an.")
            % {"label": label},
            "url": reverse("gdpr:avv"), "link_label": _("Zur AVV")}


navigation.register(NavItem(key="privacy", label=gettext_lazy("Datenschutz"),
                            url_name="gdpr:avv", order=95, namespace="gdpr",
                            visible=_sees_privacy_pages))
banners.register(Banner(key="gdpr.avv_to_accept", context=_avv_banner))
