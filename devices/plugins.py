"""What the device inventory plugs into the core: its navigation entry and dashboard card,
its scheduled jobs and its demo devices (portal/registries.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.registries import (
    PAGE_DASHBOARD,
    DemoSeeder,
    Job,
    NavItem,
    Section,
    demo_seeders,
    navigation,
    schedules,
    sections,
)


def _dashboard_card(request) -> dict:
    from devices.selectors import device_summary_for

    return device_summary_for(request.user)


def _seed_demo_devices(organisations: dict) -> None:
    from devices.demo import demo_devices_seed

    demo_devices_seed(organisations)


navigation.register(NavItem(key="devices", label=_("Geräte"), url_name="devices:list", order=30,
                            namespace="devices"))
sections.register(Section(page=PAGE_DASHBOARD, key="devices", order=30,
                          template="devices/_dashboard_card.html", context=_dashboard_card))

demo_seeders.register(DemoSeeder(key="devices", seed=_seed_demo_devices, order=10))

schedules.register(Job(
    name="devices.cleanup_imports",
    func="devices.tasks.cleanup_imports",
    cron="41 * * * *",
    description="Stored import files are deleted DEVICE_IMPORT_KEEP_HOURS after upload, "
                "whatever the import's state.",
))
schedules.register(Job(
    name="devices.recover_imports",
    func="devices.tasks.recover_imports",
    cron="*/5 * * * *",
    description="Imports stuck in a job step (worker died, task lost) are sent again, or "
                "failed with a message after PORTAL_JOB_MAX_ATTEMPTS (docs/adr/0008).",
))
