"""The customer dashboard: organisation, team, devices and security status at a glance."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render
from django_otp.plugins.otp_totp.models import TOTPDevice

from devices.selectors import device_summary_for
from portal.mfa import backup_codes_left
from portal.roles import STAFF_ROLES
from portal.selectors import team_of
from portal.tenancy import membership_of


@login_required
def dashboard(request):
    user = request.user
    membership = membership_of(user)
    team = team_of(user)
    counts = team.aggregate(active=Count("pk", filter=Q(user__is_active=True)),
                            inactive=Count("pk", filter=Q(user__is_active=False)))
    with_mfa = team.filter(
        user__is_active=True,
        user_id__in=TOTPDevice.objects.filter(confirmed=True).values("user_id"),
    ).count()
    return render(request, "portal/dashboard.html", {
        "membership": membership,
        "organisation": membership.organisation if membership else None,
        "team_preview": team.filter(user__is_active=True)[:5],
        "team_active": counts["active"],
        "team_inactive": counts["inactive"],
        "team_with_mfa": with_mfa,
        "devices": TOTPDevice.objects.filter(user=user, confirmed=True).count(),
        "inventory": device_summary_for(user),
        "backup_codes_left": backup_codes_left(user),
        "backup_codes_total": settings.PORTAL_BACKUP_CODE_COUNT,
        "is_staff_role": membership is not None and membership.role in STAFF_ROLES,
    })
