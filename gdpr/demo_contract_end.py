"""Demo data for the end of a contract (after the bookings): a customer whose contract ended
more than eight weeks ago and has been purged by the purge job (its deletion certificate is on
the DPO's start page), and Hanse Logistik, whose contract ends in three weeks (the termination
mail and the 28-day reminder have gone to its administrator).

Idempotent: the purged customer is recognised by its number (its name is gone after the
purge), and the ending one by its contract's state.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from contracts.models import Booking, BookingState, Contract, ContractStatus, Plan
from contracts.services import booking_create, contract_terminate_extraordinary
from devices.models import Device
from gdpr.models import ContractEndMail, ContractEndMailKind
from portal.models import Membership, Organisation
from portal.periods import purge_schedule
from portal.roles import OrganisationKind, Role

PURGED_NUMBER = "K-10006"
PURGED = {"name": "Autohaus Brandt GmbH", "street": "Hafenstraße 12", "postal_code": "28217",
          "city": "Bremen"}
PURGED_ADMIN = ("it@autohaus-brandt.example", "Birte", "Brandt")
#: The purged customer's contract ended this many days ago (more than 8 weeks).
PURGED_ENDED_DAYS_AGO = 70
ENDING_NUMBER = "K-10005"
#: Hanse Logistik's contract ends in three weeks.
ENDING_IN_DAYS = 21
REGISTERED_DAYS_AGO = 42
ENDING_DEVICES = [("PC-LAGER-01", "7CD1234ABC", "Lager, Versand"),
                  ("PC-LAGER-02", "7CD1234ABD", "Lager, Wareneingang")]


def _devices(customer: Organisation, rows) -> list[Device]:
    if not Device.objects.filter(customer=customer).exists():
        Device.objects.bulk_create(
            Device(customer=customer, hostname=hostname, serial_number=serial,
                   kind="workstation", operating_system="Windows 11 Pro 23H2",
                   location=location)
            for hostname, serial, location in rows)
    return list(Device.objects.filter(customer=customer).order_by("hostname"))


def _provider_person(organisations: dict, role: str):
    membership = (Membership.objects.filter(organisation=organisations["provider"], role=role,
                                            user__is_active=True)
                  .select_related("user").order_by("pk").first())
    return membership.user if membership else None


def _purged_customer_seed(organisations: dict) -> None:
    from gdpr.services.purge import customer_purge
    from portal.demo import demo_person

    customer = Organisation.objects.filter(customer_number=PURGED_NUMBER).first()
    if customer is not None and customer.purged_at is not None:
        return
    if customer is None:
        customer = Organisation(kind=OrganisationKind.CUSTOMER, customer_number=PURGED_NUMBER,
                                **PURGED)
        customer.full_clean()
        customer.save()
    email, first, last = PURGED_ADMIN
    admin = demo_person(Role.CUSTOMER_ADMIN, email, first, last, customer)
    devices = _devices(customer, [("PC-WERKSTATT-01", "5CG9988AAA", "Werkstatt, Annahme"),
                                  ("PC-VERKAUF-01", "5CG9988AAB", "Verkaufsraum")])
    plan = Plan.objects.filter(code="mc-basis").first()
    today = timezone.localdate()
    end = today - timedelta(days=PURGED_ENDED_DAYS_AGO)
    with transaction.atomic():
        if plan is not None and not Booking.objects.filter(customer=customer).exists():
            booking_create(actor=admin, customer=customer, plan=plan, devices=devices[:1])
        # History: the contract ran for two years and ended ten weeks ago (the services
        # cannot date a cancellation back, so the demo writes the outcome directly).
        start = end - timedelta(days=730)
        Booking.objects.filter(customer=customer).update(
            state=BookingState.ENDED, active_from=start, removal_received=end - timedelta(90),
            effective_end=end)
        Contract.objects.filter(customer=customer).update(
            start=start, status=ContractStatus.ENDED, cancellation_received=end - timedelta(90),
            effective_end=end, purge_on=purge_schedule(contract_end=end).purge_on)
    customer_purge(customer_id=customer.pk, today=today)


def _ending_customer_seed(organisations: dict) -> None:
    from gdpr.services.contract_end import contract_end_reminders_send

    customer = organisations.get(ENDING_NUMBER)
    staff = _provider_person(organisations, Role.PROVIDER_STAFF)
    admin = (Membership.objects.filter(organisation=customer, role=Role.CUSTOMER_ADMIN)
             .select_related("user").first() if customer else None)
    plan = Plan.objects.filter(code="mc-standard").first()
    if customer is None or staff is None or admin is None or plan is None:
        return
    contract = Contract.objects.filter(customer=customer).first()
    if contract is not None and contract.status != ContractStatus.ACTIVE:
        return
    today = timezone.localdate()
    with transaction.atomic():
        if contract is None:
            booking_create(actor=admin.user, customer=customer, plan=plan,
                           devices=_devices(customer, ENDING_DEVICES))
            contract = Contract.objects.get(customer=customer)
        contract_terminate_extraordinary(
            actor=staff, contract=contract, end=today + timedelta(days=ENDING_IN_DAYS),
            reason="Standortschließung; Vertragsende einvernehmlich vorgezogen")
        # History: the termination was registered six weeks ago, so the 28-day reminder is
        # due now (the registration mail itself did not fall into those 28 days).
        registered = today - timedelta(days=REGISTERED_DAYS_AGO)
        Contract.objects.filter(pk=contract.pk).update(cancellation_received=registered)
        ContractEndMail.objects.filter(customer=customer, kind=ContractEndMailKind.REGISTERED
                                       ).update(sent_at=timezone.now() - timedelta(
                                           days=REGISTERED_DAYS_AGO))
    contract_end_reminders_send(today=today)


def demo_contract_end_seed(organisations: dict) -> None:
    _purged_customer_seed(organisations)
    _ending_customer_seed(organisations)
