"""Give the role groups their device permissions, now that the device models exist."""

from django.db import migrations


def sync_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("devices")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None

    from portal.groups import role_groups_sync

    role_groups_sync(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"),
                     strict=False)


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0001_initial"),
        ("portal", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(sync_groups, migrations.RunPython.noop)]
