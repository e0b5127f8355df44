"""What the "Datenschutz" pages share: which customer a page is about (a customer role's own
organisation; staff and partner support pick one, as on the contract page), the links
between the pages and the page for picking a customer."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from contracts.views.common import (
    CUSTOMER_PARAM,
    customer_for,
    picks_customer,
    safe_next,
    visible_customers,
    with_customer,
)

__all__ = ["CUSTOMER_PARAM", "customer_for", "customer_url", "page_context", "pick",
           "safe_next"]

#: The pages of the section, in the order of their links: (URL name, label).
PAGES = (
    ("gdpr:avv", _("AVV")),
    ("gdpr:toms", _("TOMs")),
    ("gdpr:subprocessors", _("Unterauftragsverarbeiter")),
    ("gdpr:notices", _("Änderungsmitteilungen")),
    ("gdpr:dpo", _("Datenschutzbeauftragter")),
    ("gdpr:my_data", _("Meine Daten")),
)


def pick(request, url_name: str):
    """Staff and partner support first pick the customer whose pages they want to see."""
    return render(request, "portal/pick_customer.html", {
        "customers": visible_customers(request.user), "action": reverse(url_name),
        "param": CUSTOMER_PARAM, "extra": {},
        "question": _("Für welchen Kunden möchten Sie die Datenschutz-Seiten ansehen?"),
    })


def page_context(request, customer, current: str) -> dict:
    """The customer, whether to name it (staff roles) and the links between the pages."""
    user = request.user
    return {
        "customer": customer,
        "show_customer": picks_customer(user),
        "param": CUSTOMER_PARAM,
        "tabs": [{"url": with_customer(reverse(name), user, customer), "label": label,
                  "current": name == current} for name, label in PAGES],
    }


def customer_url(request, customer, url_name: str, *args) -> str:
    """The URL of a page of the section, naming the customer for staff roles."""
    return with_customer(reverse(url_name, args=args), request.user, customer)
