"""Forms of the device inventory pages: list filters, a device by hand, an import upload.

The forms only read and shape input; the rules (who may change which customer's devices,
uniqueness, imports) live in ``devices.services``.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from devices.models import DeviceKind
from devices.validators import validate_hostname
from portal.models import Organisation, User
from portal.roles import OrganisationKind


def customer_choices(user: User):
    """The customers ``user`` may pick for a new device or an import."""
    return (Organisation.objects.visible_to(user).filter(kind=OrganisationKind.CUSTOMER)
            .order_by("name"))


class CustomerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        if obj.customer_number:
            return f"{obj.name} ({obj.customer_number})"
        return obj.name


class DeviceFilterForm(forms.Form):
    """The list's search and filters, read from the query string; bad values fall back."""

    STATE_CHOICES = [("active", _("aktive Geräte")), ("retired", _("ausgemusterte Geräte")),
                     ("all", _("alle Geräte"))]
    SIGNATURE_CHOICES = [("", _("alle Virensignaturen")),
                         ("stale", _("nur veraltete Virensignaturen"))]
    DEFAULTS = {"q": "", "kind": "", "state": "active", "signature": ""}

    q = forms.CharField(label=_("Suche"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={
                            "type": "search",
                            "placeholder": _("Hostname, Seriennummer, Standort oder "
                                             "Betriebssystem"),
                        }))
    kind = forms.ChoiceField(label=_("Art"), required=False,
                             choices=[("", _("alle Arten")), *DeviceKind.choices])
    state = forms.ChoiceField(label=_("Status"), required=False, choices=STATE_CHOICES)
    signature = forms.ChoiceField(label=_("Virensignatur"), required=False,
                                  choices=SIGNATURE_CHOICES)

    def values(self) -> dict[str, str]:
        """The filters by field name; an invalid or missing value is replaced by its default."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: (cleaned.get(name) or default) if name not in self.errors else default
                for name, default in self.DEFAULTS.items()}

    def is_filtered(self) -> bool:
        return self.values() != self.DEFAULTS

    def filters(self) -> dict[str, str]:
        """Keyword arguments for ``devices_for``."""
        values = self.values()
        return {"search": values["q"], "kind": values["kind"], "state": values["state"],
                "signature": values["signature"]}


class DeviceForm(forms.Form):
    """Add or change a device. Staff roles pick the customer of a new device."""

    customer = CustomerChoiceField(label=_("Kunde"), queryset=Organisation.objects.none(),
                                   empty_label=_("– bitte wählen –"))
    hostname = forms.CharField(label=_("Hostname"), max_length=253,
                               validators=[validate_hostname])
    serial_number = forms.CharField(
        label=_("Seriennummer"), max_length=100,
        help_text=_("Wird in Großbuchstaben ohne Leerzeichen am Rand gespeichert."))
    kind = forms.ChoiceField(label=_("Art"), choices=DeviceKind.choices)
    operating_system = forms.CharField(label=_("Betriebssystem"), max_length=100,
                                       required=False)
    location = forms.CharField(label=_("Standort / Raum"), max_length=200, required=False)
    agent_id = forms.CharField(label=_("Agent-ID"), max_length=100, required=False)
    last_seen = forms.DateTimeField(
        label=_("zuletzt gesehen"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"},
                                   format="%Y-%m-%dT%H:%M:%S"))
    av_signature_date = forms.DateField(
        label=_("Virensignatur vom"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    pending_critical_updates = forms.IntegerField(label=_("ausstehende kritische Updates"),
                                                  min_value=0, initial=0)
    notes = forms.CharField(label=_("Notizen"), required=False,
                            widget=forms.Textarea(attrs={"rows": 4}))

    #: The fields handed to ``device_create``/``device_update``.
    DEVICE_FIELDS = ("hostname", "serial_number", "kind", "operating_system", "location",
                     "agent_id", "last_seen", "av_signature_date", "pending_critical_updates",
                     "notes")

    def __init__(self, *args, actor: User, pick_customer: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if pick_customer:
            self.fields["customer"].queryset = customer_choices(actor)
        else:
            del self.fields["customer"]

    def clean_serial_number(self) -> str:
        return self.cleaned_data["serial_number"].strip().upper()

    def device_values(self, *, only_changed: bool = False) -> dict[str, object]:
        names = [name for name in self.DEVICE_FIELDS
                 if not only_changed or name in self.changed_data]
        return {name: self.cleaned_data[name] for name in names}


class ImportUploadForm(forms.Form):
    customer = CustomerChoiceField(label=_("Kunde"), queryset=Organisation.objects.none(),
                                   empty_label=_("– bitte wählen –"))
    file = forms.FileField(
        label=_("Datei (CSV oder XLSX)"),
        widget=forms.FileInput(attrs={
            "accept": ".csv,.xlsx,text/csv,"
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }))

    def __init__(self, *args, actor: User, pick_customer: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if pick_customer:
            self.fields["customer"].queryset = customer_choices(actor)
        else:
            del self.fields["customer"]

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > settings.DEVICE_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("Die Datei ist größer als %(limit)s MB.")
                % {"limit": settings.DEVICE_IMPORT_MAX_BYTES // (1024 * 1024)})
        return uploaded
