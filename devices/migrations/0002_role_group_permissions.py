"""Give the role groups their devices permissions, now that the devices models exist."""

from django.db import migrations

from portal.groups import sync_after_migrating


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0001_initial"),
        ("portal", "0002_role_groups"),
    ]

    operations = [
        migrations.RunPython(sync_after_migrating("devices"), migrations.RunPython.noop),
    ]
