"""The team page: customer admins invite colleagues and revoke their access."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.forms import InviteForm
from portal.http import client_ip
from portal.models import User
from portal.roles import INVITING_ROLES
from portal.selectors import team_member, team_with_actions
from portal.services.accounts import (
    invitation_sent_message,
    user_deactivate,
    user_invite,
    user_reactivate,
)
from portal.tenancy import membership_of, role_of


def _can_manage(user) -> bool:
    return role_of(user) in INVITING_ROLES


@login_required
def team(request):
    return render(request, "portal/team/list.html", {
        "members": team_with_actions(request.user),
        "can_manage": _can_manage(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def invite(request):
    if not _can_manage(request.user):
        raise PermissionDenied(_("Nur Kunden-Administratoren können Kollegen einladen."))
    form = InviteForm(request.POST or None, actor=request.user,
                      initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user_invite(
                actor=request.user, organisation=membership_of(request.user).organisation,
                email=data["email"], first_name=data["first_name"],
                last_name=data["last_name"], role=data["role"], language=data["language"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            # The same answer when the address has an account elsewhere (the service decides).
            messages.success(request, invitation_sent_message(first_name=data["first_name"],
                                                              last_name=data["last_name"]))
            return redirect("portal:team")
    return render(request, "portal/team/invite.html", {"form": form})


def _member_or_404(request, user_id: int) -> User:
    try:
        return team_member(request.user, user_id)
    except User.DoesNotExist as exc:
        raise Http404 from exc


def _member_action(request, user_id: int, *, service, action: str, title: str, question: str,
                   done: str):
    """Confirmation page on GET; on POST the service runs for a person of the own team."""
    if not _can_manage(request.user):
        raise PermissionDenied(_("Nur Kunden-Administratoren können Zugänge verwalten."))
    member = _member_or_404(request, user_id)
    name = {"name": member.get_full_name()}
    if request.method == "POST":
        try:
            service(actor=request.user, user=member, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, done % name)
        return redirect("portal:team")
    return render(request, "portal/team/confirm.html", {
        "member": member, "action": action, "title": title, "question": question % name,
    })


@login_required
@require_http_methods(["GET", "POST"])
def deactivate(request, user_id: int):
    return _member_action(
        request, user_id, service=user_deactivate, action="deactivate",
        title=_("Zugang beenden"),
        question=_("%(name)s kann sich danach nicht mehr anmelden; laufende Sitzungen enden "
                   "sofort."),
        done=_("Der Zugang von %(name)s wurde sofort beendet."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def reactivate(request, user_id: int):
    return _member_action(
        request, user_id, service=user_reactivate, action="reactivate",
        title=_("Zugang wieder freigeben"),
        question=_("%(name)s kann sich danach wieder anmelden."),
        done=_("%(name)s kann sich wieder anmelden."),
    )
