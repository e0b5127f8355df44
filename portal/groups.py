"""Writing one Django group per role with the permissions of ``portal.roles``."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from portal.roles import CUSTOM_PERMISSIONS, ROLE_PERMISSIONS, Role, group_name


def role_groups_sync(group_model=Group, permission_model=Permission, *,
                     strict: bool = True) -> dict[str, int]:
    """Create or update the groups; returns the number of permissions per group. Idempotent.

    The model classes are parameters so that a data migration can pass its historical models;
    migrations pass ``strict=False`` because apps migrated later have no permissions yet (each
    app's own migration syncs again once its models exist).
    """
    result = {}
    for role in Role:
        group, _created = group_model.objects.get_or_create(name=group_name(role))
        wanted = []
        for model_label, actions in ROLE_PERMISSIONS[role].items():
            app_label, model = model_label.split(".")
            wanted += [(app_label, f"{action}_{model}") for action in actions]
        for perm in CUSTOM_PERMISSIONS.get(role, ()):
            app_label, codename = perm.split(".")
            wanted.append((app_label, codename))
        permissions = []
        for app_label, codename in wanted:
            found = permission_model.objects.filter(content_type__app_label=app_label,
                                                    codename=codename).first()
            if found is None and strict:
                raise permission_model.DoesNotExist(f"{app_label}.{codename}")
            if found is not None:
                permissions.append(found)
        group.permissions.set(permissions)
        result[group.name] = len(permissions)
    return result


def sync_after_migrating(app_label: str):
    """A data-migration function: create the permissions of ``app_label`` (Django only does
    that after all migrations) and sync the role groups, which now find them."""

    def forwards(apps, schema_editor) -> None:
        from django.contrib.auth.management import create_permissions

        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
        role_groups_sync(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"),
                         strict=False)

    return forwards
