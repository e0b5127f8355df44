"""The demo customers' devices (a registered demo seeder, see devices/plugins.py)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from devices.models import Device

#: (hostname, serial, kind, operating system, location, notes) per demo customer number.
DEMO_DEVICES = {
    "K-10001": [
        ("PC-FILIALE-01", "5CG3412X7K", "workstation", "Windows 11 Pro 23H2",
         "Filiale Innenstadt, Verkaufsraum", "Kassenrechner"),
        ("PC-FILIALE-02", "5CG3412X9M", "workstation", "Windows 11 Pro 23H2",
         "Filiale Innenstadt, Büro", "Buchhaltung"),
        ("NB-CHEF-01", "PF3ABC12", "workstation", "Windows 11 Pro 23H2",
         "Backstube, Büro", ""),
        ("SRV-BACKUP01", "CZJ42101AB", "server", "Windows Server 2022 Standard",
         "Backstube, Technikraum", "Datensicherung"),
        ("FW-HQ-01", "FGT60FTK2309", "network", "FortiOS 7.4", "Backstube, Technikraum", ""),
    ],
    "K-10002": [
        ("PC-KANZLEI-01", "8CC2301LQ4", "workstation", "Windows 11 Pro 23H2",
         "Kanzlei, Empfang", ""),
        ("PC-KANZLEI-02", "8CC2301LQ7", "workstation", "Windows 11 Pro 23H2",
         "Kanzlei, Büro RA Weber", "DATEV"),
        ("SRV-DC01", "CZJ40812QX", "server", "Windows Server 2022 Standard",
         "Kanzlei, Serverschrank", "Domänencontroller"),
    ],
}


def demo_devices_seed(organisations: dict) -> None:
    """A few devices per demo customer (only where the inventory is still empty)."""
    today = timezone.localdate()
    for number, rows in DEMO_DEVICES.items():
        customer = organisations[number]
        if Device.objects.filter(customer=customer).exists():
            continue
        Device.objects.bulk_create(
            Device(customer=customer, hostname=hostname, serial_number=serial, kind=kind,
                   operating_system=os_name, location=location, notes=notes,
                   agent_id=f"AG-{serial[-6:]}",
                   last_seen=timezone.now() - timedelta(hours=index * 5),
                   av_signature_date=today - timedelta(days=4 if index == 2 else 0))
            for index, (hostname, serial, kind, os_name, location, notes) in enumerate(rows))
