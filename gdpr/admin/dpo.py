"""The DPO's start page: a section at the top of the admin index (portal/registries.py
PAGE_ADMIN_INDEX) for the DPO and the provider admin, and the full AVV coverage list it links
to. Read-only: the DPO writes only reviews and case resolutions, on their own pages."""

from __future__ import annotations

from dataclasses import replace

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from gdpr.selectors.dpo import (
    admins_missing,
    coverage_of,
    coverage_rows,
    coverage_summary,
    open_cases,
    reviews_due,
    reviews_overdue_count,
    running_notices,
)
from gdpr.selectors.requests import requests_open_preview
from gdpr.services.avv import current_avv
from portal.pagination import PAGE_SIZE
from portal.roles import Role
from portal.tenancy import role_of

#: Who gets the start page: the DPO, and the provider admin who appoints them.
START_PAGE_ROLES = frozenset({Role.DPO, Role.PROVIDER_ADMIN})


def dpo_start_section(request) -> dict | None:
    if role_of(request.user) not in START_PAGE_ROLES:
        return None
    today = timezone.localdate()
    return {"coverage": coverage_summary(request.user), "cases": open_cases(request.user),
            "notices": running_notices(request.user),
            "reviews": reviews_due(request.user, today=today),
            "reviews_overdue": reviews_overdue_count(request.user, today=today),
            "requests": requests_open_preview(request.user, today),
            "today": today}


def coverage_view(admin_site):
    """The acceptance state of the current AVV for every customer the person sees, paged."""

    @staff_member_required
    def view(request):
        if role_of(request.user) not in START_PAGE_ROLES | {Role.PROVIDER_STAFF}:
            raise PermissionDenied
        version = current_avv()
        page = None
        if version is not None:
            page = Paginator(coverage_rows(request.user, version=version), PAGE_SIZE) \
                .get_page(request.GET.get("p"))
            page.object_list = [coverage_of(row) for row in page.object_list]
            missing = admins_missing(request.user, [row.customer_id for row in page.object_list],
                                     version=version)
            page.object_list = [replace(row, missing=tuple(missing.get(row.customer_id, ())))
                                for row in page.object_list]
        return TemplateResponse(request, "admin/gdpr/avv_coverage.html", {
            **admin_site.each_context(request),
            "title": _("AVV-Annahmen je Kunde"), "version": version, "page": page})

    return view
