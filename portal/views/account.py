"""Accepting an invitation and switching the language."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from portal.forms import SetPasswordForm
from portal.http import client_ip, is_verified
from portal.invitations import invited_user
from portal.services.accounts import invitation_accept, user_set_language


def invitation_accept_view(request, token: str):
    user = invited_user(token)
    if user is None:
        return render(request, "portal/invitation_invalid.html", status=400)
    form = SetPasswordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            invitation_accept(user=user, password=form.cleaned_data["password1"],
                              ip=client_ip(request))
        except ValidationError as exc:
            form.add_error("password1", exc.messages)
        else:
            messages.success(request, _("Ihr Passwort ist gesetzt. Melden Sie sich jetzt an und "
                                        "richten Sie die Zwei-Faktor-Anmeldung ein."))
            return redirect("account_login")
    return render(request, "portal/invitation_accept.html", {"form": form, "invited": user})


@require_POST
def language_switch(request):
    """Django's ``set_language`` plus the person's saved preference for e-mails.

    Reachable before the second factor (the MFA pages have the switch too); such a session
    gets only the cookie: the saved preference changes from a verified session."""
    language = request.POST.get("language", "")
    if is_verified(request.user) and language in dict(settings.LANGUAGES):
        user_set_language(actor=request.user, language=language)
    return set_language(request)
