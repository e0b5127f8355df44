"""The dashboard: organisation, team and security status, with the cards the apps register
(``portal.registries.sections``, page ``dashboard``: devices, costs, ...)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.mfa import backup_codes_left
from portal.registries import PAGE_DASHBOARD, sections_for
from portal.roles import STAFF_ROLES
from portal.selectors import team_of, team_summary
from portal.tenancy import membership_of


@login_required
def dashboard(request):
    user = request.user
    membership = membership_of(user)
    team = team_of(user)
    counts = team_summary(user)
    return render(request, "portal/dashboard.html", {
        "membership": membership,
        "organisation": membership.organisation if membership else None,
        "team_preview": team.filter(user__is_active=True)[:5],
        "team_active": counts["active"],
        "team_inactive": counts["inactive"],
        "team_with_mfa": counts["with_mfa"],
        "devices": TOTPDevice.objects.filter(user=user, confirmed=True).count(),
        "backup_codes_left": backup_codes_left(user),
        "backup_codes_total": settings.PORTAL_BACKUP_CODE_COUNT,
        "is_staff_role": membership is not None and membership.role in STAFF_ROLES,
        "sections": sections_for(PAGE_DASHBOARD, request),
    })
