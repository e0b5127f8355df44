"""The invite form preselects the least privileged role the inviter may hand out."""

from __future__ import annotations

import re

import pytest

from portal.forms import InviteForm
from portal.roles import Role, least_privileged


def _selected_role(html: str) -> str:
    select = re.search(r'<select name="role".*?</select>', html, re.S).group(0)
    return re.search(r'<option value="([^"]+)"[^>]*selected', select).group(1)


def test_the_team_invite_page_preselects_customer_member(world, verified_client):
    client = verified_client(world["people"]["customer_admin"])
    html = client.get("/team/einladen/").content.decode()
    assert _selected_role(html) == Role.CUSTOMER_MEMBER


@pytest.mark.parametrize(("inviter", "expected"), [
    ("customer_admin", Role.CUSTOMER_MEMBER),
    ("partner_support", Role.CUSTOMER_ADMIN),
    ("provider_staff", Role.CUSTOMER_MEMBER),
    ("provider_admin", Role.CUSTOMER_MEMBER),
])
def test_the_initial_role_is_the_lowest_the_inviter_may_give(world, inviter, expected):
    form = InviteForm(actor=world["people"][inviter])
    assert form["role"].initial == expected


def test_least_privileged_of_no_roles_is_none():
    assert least_privileged([]) is None
    assert least_privileged([Role.DPO, Role.PROVIDER_STAFF]) == Role.PROVIDER_STAFF
