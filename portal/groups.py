"""Writing one Django group per role with the permissions of ``portal.roles``."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from portal.roles import CUSTOM_PERMISSIONS, ROLE_PERMISSIONS, Role, group_name


def role_groups_sync(group_model=Group, permission_model=Permission) -> dict[str, int]:
    """Create or update the groups; returns the number of permissions per group. Idempotent.

    The model classes are parameters so that a data migration can pass its historical models.
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
        permissions = [
            permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in wanted
        ]
        group.permissions.set(permissions)
        result[group.name] = len(permissions)
    return result
