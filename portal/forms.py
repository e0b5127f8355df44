"""Forms of the portal shell: invitations, second factor, re-authentication, password on
invitation, signup names."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from portal.models import User
from portal.roles import least_privileged
from portal.selectors import invitable_role_choices


class SignupNamesForm(forms.Form):
    """Only used when open signup is switched on: accounts are personal and need names."""

    first_name = forms.CharField(label=_("Vorname"), max_length=150)
    last_name = forms.CharField(label=_("Nachname"), max_length=150)

    def signup(self, request, user) -> None:
        user.first_name = self.cleaned_data["first_name"]
        user.last_name = self.cleaned_data["last_name"]
        user.save(update_fields=["first_name", "last_name"])


class InviteForm(forms.Form):
    first_name = forms.CharField(label=_("Vorname"), max_length=150)
    last_name = forms.CharField(label=_("Nachname"), max_length=150)
    email = forms.EmailField(
        label=_("E-Mail-Adresse"),
        help_text=_("Die persönliche Adresse der Person, kein Sammelpostfach."),
    )
    role = forms.ChoiceField(label=_("Rolle"))
    language = forms.ChoiceField(label=_("Sprache der Einladung"),
                                 choices=[("de", _("Deutsch")), ("en", _("Englisch"))])

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        choices = invitable_role_choices(actor)
        self.fields["role"].choices = choices
        self.fields["role"].initial = least_privileged(value for value, _label in choices)


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"), max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autofocus": True, "spellcheck": "false"}),
    )


class ReauthenticationForm(forms.Form):
    """Password and a current code before a security change (portal/reauth.py checks them)."""

    password = forms.CharField(
        label=_("Passwort"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password",
                                          "autofocus": True}),
    )
    token = forms.CharField(
        label=_("Code aus der Authenticator-App oder Backup-Code"), max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "spellcheck": "false"}),
    )


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(label=_("Neues Passwort"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("Passwort wiederholen"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("Die beiden Passwörter stimmen nicht überein."))
        elif first:
            try:
                validate_password(first, self.user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned
