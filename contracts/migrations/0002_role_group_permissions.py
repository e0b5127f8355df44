"""Give the role groups their contracts permissions, now that the contracts models exist."""

from django.db import migrations

from portal.groups import sync_after_migrating


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0001_initial"),
        ("portal", "0002_role_groups"),
        ("devices", "0002_role_group_permissions"),
    ]

    operations = [
        migrations.RunPython(sync_after_migrating("contracts"), migrations.RunPython.noop),
    ]
