"""Demo bookings (after the devices and the catalogue): two customers with running services,
so the demo shows costs, contracts, change notices to affected customers and the records of
processing generated from bookings. Bäckerei Schröder keeps most of its devices unbooked, so
booking can be tried out. Idempotent: a customer that has bookings gets none added."""

from __future__ import annotations

from django.db import transaction

from contracts.models import Booking, Plan
from contracts.services import booking_create
from devices.models import Device
from portal.models import Membership
from portal.roles import Role

#: customer number -> [(plan code, hostnames)], booked by the customer's first admin.
DEMO_BOOKINGS = {
    "K-10001": [("mc-standard", ["PC-FILIALE-02"])],
    "K-10002": [("mc-premium", ["PC-KANZLEI-01", "PC-KANZLEI-02"]),
                ("srv-basis", ["SRV-DC01"])],
}


def demo_bookings_seed(organisations: dict) -> None:
    for number, bookings in DEMO_BOOKINGS.items():
        customer = organisations.get(number)
        if customer is None or Booking.objects.filter(customer=customer).exists():
            continue
        admin = (Membership.objects.filter(organisation=customer, role=Role.CUSTOMER_ADMIN,
                                           user__is_active=True)
                 .select_related("user").order_by("pk").first())
        if admin is None:
            continue
        for code, hostnames in bookings:
            devices = list(Device.objects.filter(customer=customer, hostname__in=hostnames))
            plan = Plan.objects.filter(code=code).first()
            if plan is None or not devices:
                continue
            with transaction.atomic():
                booking_create(actor=admin.user, customer=customer, plan=plan, devices=devices)
