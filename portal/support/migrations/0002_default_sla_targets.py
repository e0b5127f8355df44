"""The default SLA targets for every plan (001): a critical ticket gets a reaction within 4
service hours, any other within 24 (the start of the solution); no resolution target is
agreed. Service hours Mon–Fri 09:00–18:00 Europe/Berlin. Staff change them as data."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [("critical", Decimal("4")), ("1", Decimal("24")), ("2", Decimal("24")),
            ("3", Decimal("24"))]


def seed(apps, schema_editor):
    target = apps.get_model("support", "SlaTarget")
    for severity, hours in DEFAULTS:
        target.objects.get_or_create(plan=None, severity=severity,
                                     defaults={"reaction_hours": hours, "calendar": "service"})


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
