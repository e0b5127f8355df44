"""Forms of the portal's "Datenschutz" pages: accepting the AVV as shown, objecting to a change.

The forms only read and shape input; who may accept or object, until when, and whether the
shown text is still the current one is decided by ``gdpr.services.avv.avv_accept`` and
``portal.change_notices.services.change_notice_object``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gdpr.models import AvvStatus, AvvVersion

STALE_PAGE = _("Die angezeigte AVV-Version ist unbekannt; bitte laden Sie die Seite neu.")


class AvvAcceptForm(forms.Form):
    """The version and the SHA-256 of the text the page showed, both as hidden fields."""

    version = forms.ModelChoiceField(
        queryset=AvvVersion.objects.filter(status=AvvStatus.PUBLISHED), widget=forms.HiddenInput,
        error_messages={"invalid_choice": STALE_PAGE, "required": STALE_PAGE})
    sha256 = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput,
                              error_messages={"invalid": STALE_PAGE, "required": STALE_PAGE})


class ObjectionForm(forms.Form):
    reason = forms.CharField(
        label=_("Begründung"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000,
        required=False)

    def __init__(self, *args, reason_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        field.required = reason_required
        field.error_messages["required"] = _("Bitte begründen Sie Ihren Widerspruch.")
        if not reason_required:
            field.label = _("Begründung (freiwillig)")


class ProvisionOrderForm(forms.Form):
    """A customer admin orders the provider to hand over the data (003 § 24.3); whether it
    may still be ordered and until when the data can be wanted is decided by
    ``gdpr.services.contract_end.provision_order_create``."""

    scope = forms.CharField(
        label=_("Umfang und Format"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Welche Daten in welchem Format, z. B. alle Geräte und Dokumente als "
                    "CSV und PDF."),
        error_messages={"required": _("Bitte beschreiben Sie Umfang und Format.")})
    wanted_by = forms.DateField(
        label=_("gewünscht bis"), widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Bitte geben Sie an, bis wann Sie die Daten brauchen."),
                        "invalid": _("Bitte geben Sie ein gültiges Datum an.")})
    delivery = forms.CharField(
        label=_("Übergabeweg"), max_length=2000, required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("z. B. verschlüsselter Download-Link oder Datenträger an unsere Adresse"))
