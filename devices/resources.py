"""The inventory as a django-import-export resource: the columns of the export (and, by the
same names, of the import), with formulae escaped so a spreadsheet never executes a cell."""

from __future__ import annotations

from django.utils import timezone
from import_export import fields, resources

from devices.models import Device
from devices.spreadsheets import COLUMNS, escape_formula


class DeviceResource(resources.ModelResource):
    hostname = fields.Field(attribute="hostname", column_name="hostname")
    serial = fields.Field(attribute="serial_number", column_name="serial")
    kind = fields.Field(attribute="kind", column_name="kind")
    os = fields.Field(attribute="operating_system", column_name="os")
    location = fields.Field(attribute="location", column_name="location")
    agent_id = fields.Field(attribute="agent_id", column_name="agent_id")
    last_seen = fields.Field(attribute="last_seen", column_name="last_seen")
    av_signature_date = fields.Field(attribute="av_signature_date",
                                     column_name="av_signature_date")
    notes = fields.Field(attribute="notes", column_name="notes")

    class Meta:
        model = Device
        fields = COLUMNS
        export_order = COLUMNS

    def dehydrate_last_seen(self, device: Device) -> str:
        if device.last_seen is None:
            return ""
        return timezone.localtime(device.last_seen).strftime("%Y-%m-%d %H:%M:%S")

    def dehydrate_av_signature_date(self, device: Device) -> str:
        return device.av_signature_date.isoformat() if device.av_signature_date else ""

    def export_field(self, field, instance, **kwargs):
        return escape_formula(super().export_field(field, instance, **kwargs))
