"""The customer dashboard: organisation, team, devices, costs and security status at a glance."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django_otp.plugins.otp_totp.models import TOTPDevice

from contracts.charts import bar_chart, chart_size
from contracts.selectors import (
    bookings_ending_soon,
    count_without_service,
    monthly_cost_projection,
)
from devices.selectors import device_summary_for
from portal.mfa import backup_codes_left
from portal.roles import STAFF_ROLES, OrganisationKind
from portal.selectors import team_of, team_summary
from portal.tenancy import membership_of

#: Cancelled services shown on the dashboard: ending within this many days, at most this many.
ENDING_SOON_DAYS = 60
ENDING_SOON_SHOWN = 5


def _costs(user, *, devices_without_service: int) -> dict:
    """The "Kosten" card, in two queries of its own: cost projection, cancelled bookings ending
    soon (with their devices); the devices without a running booking are counted with the
    others (``device_summary_for``)."""
    projection = monthly_cost_projection(user, months=12)
    bars = bar_chart(projection[1:])
    return {
        "current": projection[0][1],
        "bars": bars,
        "size": chart_size(len(bars)),
        "devices_without_service": devices_without_service,
        "ending_soon": list(bookings_ending_soon(user, days=ENDING_SOON_DAYS)
                            [:ENDING_SOON_SHOWN]),
        "ending_soon_days": ENDING_SOON_DAYS,
    }


@login_required
def dashboard(request):
    user = request.user
    membership = membership_of(user)
    team = team_of(user)
    counts = team_summary(user)
    # Costs only for people of a customer: staff see many customers, a sum would mislead.
    in_customer = (membership is not None
                   and membership.organisation.kind == OrganisationKind.CUSTOMER)
    inventory = device_summary_for(
        user, **({"without_service": count_without_service(user)} if in_customer else {}))
    costs = (_costs(user, devices_without_service=inventory.pop("without_service"))
             if in_customer else None)
    return render(request, "portal/dashboard.html", {
        "membership": membership,
        "organisation": membership.organisation if membership else None,
        "team_preview": team.filter(user__is_active=True)[:5],
        "team_active": counts["active"],
        "team_inactive": counts["inactive"],
        "team_with_mfa": counts["with_mfa"],
        "devices": TOTPDevice.objects.filter(user=user, confirmed=True).count(),
        "inventory": inventory,
        "backup_codes_left": backup_codes_left(user),
        "backup_codes_total": settings.PORTAL_BACKUP_CODE_COUNT,
        "is_staff_role": membership is not None and membership.role in STAFF_ROLES,
        "costs": costs,
    })
