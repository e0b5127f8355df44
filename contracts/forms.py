"""Forms of the contract pages: book a plan for devices, change the tier of a booking.

The forms only read and shape input; the rules (who may book, which device fits, one running
booking per device and family) live in ``contracts.services`` and ``contracts.bookability``,
whose refusals the booking form shows before the service checks them again.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from contracts.bookability import FAMILY_RUNNING, refusals
from contracts.models import Plan
from devices.models import Device
from portal.models import Organisation, User
from portal.money import eur

#: Shown when a link or a form names a plan that does not exist or is no longer offered.
UNKNOWN_PLAN = _("Die gewählte Leistung gibt es nicht oder sie wird nicht mehr angeboten. "
                 "Bitte wählen Sie eine Leistung aus der Liste.")


class DeviceChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Device) -> str:
        return f"{obj.hostname} ({obj.serial_number})"


class BookingForm(forms.Form):
    """A plan and one or many devices. The choices are the customer's active devices; the
    check against the plan and running bookings happens in ``clean``, so that a second submit
    of the same booking gets a clear message rather than "invalid choice"."""

    plan = forms.ModelChoiceField(
        label=_("Leistung"), queryset=Plan.objects.none(), widget=forms.HiddenInput,
        error_messages={"invalid_choice": UNKNOWN_PLAN, "required": UNKNOWN_PLAN})
    devices = DeviceChoiceField(
        label=_("Geräte"), queryset=Device.objects.none(), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Bitte wählen Sie mindestens ein Gerät.")})

    def __init__(self, *args, actor: User, customer: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = Plan.objects.filter(is_active=True)
        self.fields["devices"].queryset = Device.objects.visible_to(actor).filter(
            customer=customer, retired_at__isnull=True).order_by("hostname")

    def clean(self):
        cleaned = super().clean()
        if self.has_error("plan"):
            # The plan is a hidden field: its error belongs at the top of the form.
            self.add_error(None, self.errors.pop("plan"))
        plan, devices = cleaned.get("plan"), cleaned.get("devices")
        if plan is None or not devices:
            return cleaned
        # The service's own reasons (contracts.bookability), not a second version of them.
        refused = refusals(plan, devices)
        if refused:
            problems = [refusal.message for refusal in refused]
            if any(refusal.reason == FAMILY_RUNNING for refusal in refused):
                problems.append(_("Vielleicht haben Sie die Buchung gerade schon abgeschickt."))
            raise forms.ValidationError(problems)
        return cleaned


class TierForm(forms.Form):
    """Another plan of the same family for a booking."""

    plan = forms.ModelChoiceField(label=_("Neue Stufe"), queryset=Plan.objects.none(),
                                  widget=forms.RadioSelect, empty_label=None)

    def __init__(self, *args, booking, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = (Plan.objects.filter(family=booking.family, is_active=True)
                                        .exclude(pk=booking.plan_id))
        self.fields["plan"].label_from_instance = _tier_label


def _tier_label(plan: Plan) -> str:
    return f"{plan.name} – {eur(plan.monthly_price)}"
