"""The service catalogue: plans by family with a feature matrix, prices and rules."""

from __future__ import annotations

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from contracts.models import Plan, PlanFamily
from contracts.views.common import can_act, customer_for, with_customer


def families(plans: list[Plan]) -> list[dict]:
    """Plans grouped by family, each group with its feature rows (feature, [✓ per tier])."""
    groups = []
    for family, members in groupby(plans, key=lambda plan: plan.family):
        members = list(members)
        features: list[str] = []
        for plan in members:
            features += [feature for feature in plan.features if feature not in features]
        rows = [(feature, [feature in plan.features for plan in members])
                for feature in features]
        groups.append({"family": family, "label": PlanFamily(family).label, "plans": members,
                       "rows": rows})
    return groups


@login_required
@require_GET
def catalogue(request):
    user = request.user
    customer = customer_for(request)
    plans = list(Plan.objects.filter(is_active=True).order_by("family", "sort_order",
                                                              "monthly_price"))
    book_url = reverse("contracts:book")
    for plan in plans:
        plan.book_url = with_customer(book_url, user, customer, plan=plan.code)
    return render(request, "contracts/catalogue.html", {
        "families": families(plans),
        "can_act": can_act(user),
    })
