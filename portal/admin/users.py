"""People in the staff admin: invite, correct names, deactivate, reactivate, reset MFA.

The order of roles (``portal.roles``) is the services' rule; the admin only shows it: the page
of a person above the viewer's rank is read-only with the reason, and an action's confirmation
page lists the people it will refuse apart. Inviting answers the same whether or not the
address has an account the viewer may not see (``user_invite``).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.admin.base import TenantScopedAdmin, run_service_action
from portal.http import client_ip
from portal.models import Membership, Organisation, User
from portal.selectors import invitable_role_choices, person_label
from portal.services.accounts import (
    invitation_sent_message,
    rank_refusal,
    user_deactivate,
    user_invite,
    user_reactivate,
    user_resend_invitation,
    user_update,
)
from portal.services.mfa import mfa_reset


class PersonRankAdminMixin:
    """The change page of a person who ranks above the viewer is read-only, and says why."""

    def person_of(self, obj) -> User:
        return obj

    def rank_refusal_of(self, request, obj) -> str | None:
        return rank_refusal(actor=request.user, target=self.person_of(obj))

    def has_change_permission(self, request, obj=None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or self.rank_refusal_of(request, obj) is None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, unquote(object_id))
            refusal = self.rank_refusal_of(request, obj) if obj is not None else None
            if refusal:
                self.message_user(request, refusal, messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)


class UserInviteForm(forms.ModelForm):
    organisation = forms.ModelChoiceField(label=_("Organisation"),
                                          queryset=Organisation.objects.none())
    role = forms.ChoiceField(label=_("Rolle"))

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "language")

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.fields["organisation"].queryset = Organisation.objects.visible_to(request.user)
        self.fields["role"].choices = invitable_role_choices(request.user)

    def _get_validation_exclusions(self):
        # No uniqueness check of the address here: whether it has an account is not the
        # inviter's business; ``user_invite`` decides what the inviter is told.
        return {*super()._get_validation_exclusions(), "email"}

    def clean(self):
        cleaned = super().clean()
        organisation, role = cleaned.get("organisation"), cleaned.get("role")
        if organisation and role:
            probe = Membership(organisation=organisation, role=role)
            try:
                probe.clean()
            except ValidationError as exc:
                self.add_error("role", exc.message_dict.get("role", exc.messages))
        return cleaned


class MFAResetForm(forms.Form):
    """A reset is only as safe as the check that the caller is the person: it is recorded."""

    identity_check = forms.CharField(
        label=_("Wie wurde die Identität geprüft?"), max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Zum Beispiel: Rückruf unter der hinterlegten Telefonnummer, Ausweis vor "
                    "Ort, schriftliche Bestätigung durch den Administrator des Kunden. Die "
                    "Angabe wird im Audit-Protokoll gespeichert."))


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("organisation", "role")
    readonly_fields = ("organisation", "role")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class MFAStateFilter(admin.SimpleListFilter):
    title = _("Zwei-Faktor-Anmeldung")
    parameter_name = "mfa"

    def lookups(self, request, model_admin):
        return [("yes", _("eingerichtet")), ("no", _("nicht eingerichtet"))]

    def queryset(self, request, queryset):
        confirmed = TOTPDevice.objects.filter(confirmed=True).values("user_id")
        if self.value() == "yes":
            return queryset.filter(pk__in=confirmed)
        if self.value() == "no":
            return queryset.exclude(pk__in=confirmed)
        return queryset


@admin.register(User)
class UserAdmin(PersonRankAdminMixin, TenantScopedAdmin):
    list_display = ("email", "first_name", "last_name", "organisation_name", "role_name",
                    "is_active", "last_login")
    list_filter = ("is_active", "memberships__role", "memberships__organisation__kind",
                   MFAStateFilter, ("memberships__organisation", admin.RelatedOnlyFieldListFilter))
    search_fields = ("email", "first_name", "last_name", "memberships__organisation__name")
    ordering = ("last_name", "first_name")
    inlines = (MembershipInline,)
    readonly_fields = ("email", "is_active", "is_staff", "last_login", "date_joined",
                       "deactivated_at", "invited_by_name")
    fields = ("email", "first_name", "last_name", "language", "is_active", "is_staff",
              "last_login", "date_joined", "deactivated_at", "invited_by_name")
    actions = ("deactivate", "reactivate", "reset_mfa", "resend_invitation")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__organisation")

    @admin.display(description=_("Organisation"))
    def organisation_name(self, obj):
        memberships = list(obj.memberships.all())
        return memberships[0].organisation.name if memberships else "–"

    @admin.display(description=_("Rolle"))
    def role_name(self, obj):
        memberships = list(obj.memberships.all())
        return memberships[0].get_role_display() if memberships else "–"

    @admin.display(description=_("eingeladen von"))
    def invited_by_name(self, obj):
        return getattr(obj, "invited_by_label", "–")

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.invited_by_label = person_label(request.user, obj.invited_by)
        return obj

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            form = UserInviteForm

            class RequestBoundInviteForm(form):
                def __init__(self, *args, **kw):
                    super().__init__(*args, request=request, **kw)

            kwargs["form"] = RequestBoundInviteForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("email", "first_name", "last_name", "language",
                                       "organisation", "role")})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return () if obj is None else self.inlines

    def save_model(self, request, obj, form, change) -> None:
        if change:
            user_update(actor=request.user, user=obj, first_name=obj.first_name,
                        last_name=obj.last_name, ip=client_ip(request))
            return
        data = form.cleaned_data
        invited = user_invite(
            actor=request.user, organisation=data["organisation"], email=data["email"],
            first_name=data["first_name"], last_name=data["last_name"], role=data["role"],
            language=data.get("language") or "de", ip=client_ip(request),
        )
        if invited is not None:  # None: the address has an account the inviter may not see
            obj.pk = invited.pk
            obj._state.adding = False

    def log_addition(self, request, obj, message):
        if obj.pk is None:  # nothing was added; user_invite audited the attempt
            return None
        return super().log_addition(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        """The same answer for a free address and one with an account elsewhere: the message of
        a new invitation, then the list (or a new form), never the new person's page."""
        self.message_user(request, invitation_sent_message(first_name=obj.first_name,
                                                           last_name=obj.last_name),
                          messages.SUCCESS)
        if "_addanother" in request.POST:
            return HttpResponseRedirect(request.path)
        return HttpResponseRedirect(reverse("admin:portal_user_changelist"))

    def save_related(self, request, form, formsets, change) -> None:
        if change:
            super().save_related(request, form, formsets, change)

    def has_delete_permission(self, request, obj=None) -> bool:
        # People are deactivated, never deleted here; erasure runs through GDPR requests.
        return False

    @admin.action(description=_("Ausgewählte Personen deaktivieren"), permissions=["change"])
    def deactivate(self, request, queryset):
        return run_service_action(
            self, request, queryset, action_name="deactivate",
            title=gettext("Personen deaktivieren"),
            question=gettext("Diese Personen verlieren sofort den Zugang; laufende Sitzungen "
                             "enden. Fortfahren?"),
            service=lambda user: user_deactivate(actor=request.user, user=user,
                                                 ip=client_ip(request)),
            refusal=self._refusal(request),
            done=ngettext_lazy("%(count)d Person deaktiviert.", "%(count)d Personen deaktiviert.",
                              "count"),
        )

    @admin.action(description=_("Ausgewählte Personen reaktivieren"), permissions=["change"])
    def reactivate(self, request, queryset):
        return run_service_action(
            self, request, queryset, action_name="reactivate",
            title=gettext("Personen reaktivieren"),
            question=gettext("Diese Personen können sich wieder anmelden. Fortfahren?"),
            service=lambda user: user_reactivate(actor=request.user, user=user,
                                                 ip=client_ip(request)),
            refusal=self._refusal(request),
            done=ngettext_lazy("%(count)d Person reaktiviert.", "%(count)d Personen reaktiviert.",
                              "count"),
        )

    @admin.action(description=_("Zwei-Faktor-Anmeldung zurücksetzen"), permissions=["reset_mfa"])
    def reset_mfa(self, request, queryset):
        return run_service_action(
            self, request, queryset, action_name="reset_mfa",
            title=gettext("Zwei-Faktor-Anmeldung zurücksetzen"),
            question=gettext("Alle Authenticator-Apps und Backup-Codes dieser Personen werden "
                             "gelöscht, ihre Sitzungen enden. Sie müssen bei der nächsten "
                             "Anmeldung einen neuen zweiten Faktor einrichten. Fortfahren?"),
            service=lambda user, data: mfa_reset(
                actor=request.user, user=user, identity_check=data["identity_check"],
                ip=client_ip(request)),
            refusal=self._refusal(request),
            form_class=MFAResetForm,
            done=ngettext_lazy("Zwei-Faktor-Anmeldung für %(count)d Person zurückgesetzt.",
                              "Zwei-Faktor-Anmeldung für %(count)d Personen zurückgesetzt.",
                              "count"),
        )

    @admin.action(description=_("Einladung erneut senden"), permissions=["change"])
    def resend_invitation(self, request, queryset):
        return run_service_action(
            self, request, queryset, action_name="resend_invitation",
            title=gettext("Einladung erneut senden"),
            question=gettext("Die Einladungs-E-Mail wird erneut verschickt. Fortfahren?"),
            service=lambda user: user_resend_invitation(actor=request.user, user=user,
                                                        ip=client_ip(request)),
            refusal=self._refusal(request),
            done=ngettext_lazy("%(count)d Einladung verschickt.",
                               "%(count)d Einladungen verschickt.", "count"),
        )

    def _refusal(self, request):
        """For the confirmation page: why the service will refuse a selected person."""
        return lambda user: self.rank_refusal_of(request, user)

    def has_reset_mfa_permission(self, request) -> bool:
        return request.user.has_perm("portal.reset_mfa")
