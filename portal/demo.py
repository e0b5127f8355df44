"""Demo data: a provider, two partners, several customers and one person per role; the apps
add theirs through ``portal.registries.demo_seeders`` (devices, the service catalogue)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.mfa import base32_secret
from portal.models import Membership, Organisation, User
from portal.registries import demo_seeders
from portal.roles import STAFF_ROLES, OrganisationKind, Role, group_name
from portal.services.audit import audit_event_record

DEMO_PASSWORD = "Demo-Portal-2026!"

PROVIDER = {"name": "Nordlicht IT-Service GmbH", "street": "Hafenstraße 12",
            "postal_code": "20457", "city": "Hamburg", "vat_id": "DE136695976"}
PARTNERS = [
    {"name": "Systemhaus Rhein-Main GmbH", "street": "Mainzer Landstraße 50",
     "postal_code": "60325", "city": "Frankfurt am Main"},
    {"name": "Elbe Netzwerk Partner KG", "street": "Königsbrücker Straße 8",
     "postal_code": "01099", "city": "Dresden"},
]
CUSTOMERS = [
    ("K-10001", "Bäckerei Schröder GmbH", "Lindenallee 3", "60311", "Frankfurt am Main", 0),
    ("K-10002", "Kanzlei Weber & Partner mbB", "Schillerstraße 21", "65185", "Wiesbaden", 0),
    ("K-10003", "Praxis Dr. Yilmaz", "Bautzner Straße 44", "01099", "Dresden", 1),
    ("K-10004", "Holzbau Meißner GmbH & Co. KG", "Am Sägewerk 2", "01662", "Meißen", 1),
    ("K-10005", "Hanse Logistik AG", "Speicherstadt 5", "20457", "Hamburg", None),
]

# (role, e-mail, first name, last name, organisation key)
PEOPLE = [
    (Role.PROVIDER_ADMIN, "admin@nordlicht-it.example", "Anna", "Albers", "provider"),
    (Role.PROVIDER_STAFF, "support@nordlicht-it.example", "Stefan", "Brandt", "provider"),
    (Role.DPO, "datenschutz@nordlicht-it.example", "Dagmar", "Petersen", "provider"),
    (Role.PARTNER_SUPPORT, "support@systemhaus-rhein-main.example", "Paul", "Keller", "partner0"),
    (Role.PARTNER_SUPPORT, "support@elbe-netzwerk.example", "Petra", "Lange", "partner1"),
    (Role.CUSTOMER_ADMIN, "it@baeckerei-schroeder.example", "Claudia", "Schröder", "K-10001"),
    (Role.CUSTOMER_MEMBER, "verkauf@baeckerei-schroeder.example", "Max", "Müller", "K-10001"),
    (Role.CUSTOMER_ADMIN, "it@kanzlei-weber.example", "Karl", "Weber", "K-10002"),
    (Role.CUSTOMER_ADMIN, "praxis@dr-yilmaz.example", "Aylin", "Yilmaz", "K-10003"),
    (Role.CUSTOMER_ADMIN, "it@hanse-logistik.example", "Jens", "Hansen", "K-10005"),
]


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    totp_secret: str
    organisation: str


def _organisation(kind: str, name: str, **fields) -> Organisation:
    org = Organisation.objects.filter(kind=kind, name=name).first()
    if org is None:
        org = Organisation(kind=kind, name=name, **fields)
        org.full_clean()
        org.save()
    return org


def demo_person(role: str, email: str, first: str, last: str, organisation: Organisation
                ) -> User:
    """A demo person with the demo password, a membership and a confirmed TOTP device (found
    again by the address); apps' demo seeders use it for people outside :data:`PEOPLE`."""
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD,
                                        first_name=first, last_name=last)
        from allauth.account.models import EmailAddress

        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    Membership.objects.update_or_create(user=user, defaults={"organisation": organisation,
                                                            "role": role})
    user.is_staff = role in STAFF_ROLES
    user.save(update_fields=["is_staff"])
    user.groups.set([Group.objects.get_or_create(name=group_name(role))[0]])
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Demo", confirmed=True)
        static = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
        StaticToken.objects.bulk_create(
            StaticToken(device=static, token=secrets.token_hex(4)) for _i in range(10))
    return user


@transaction.atomic
def demo_seed() -> list[DemoLogin]:
    """Create (or find again) the demo world; safe to run any number of times."""
    provider = _organisation(OrganisationKind.PROVIDER, **PROVIDER)
    orgs: dict[str, Organisation] = {"provider": provider}
    for index, partner in enumerate(PARTNERS):
        orgs[f"partner{index}"] = _organisation(OrganisationKind.PARTNER, **partner)
    for number, name, street, postal_code, city, partner_index in CUSTOMERS:
        orgs[number] = _organisation(
            OrganisationKind.CUSTOMER, name, customer_number=number, street=street,
            postal_code=postal_code, city=city,
            partner=orgs[f"partner{partner_index}"] if partner_index is not None else None,
        )
    logins = []
    for role, email, first, last, org_key in PEOPLE:
        user = demo_person(role, email, first, last, orgs[org_key])
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
        logins.append(DemoLogin(role=str(role), email=email, password=DEMO_PASSWORD,
                                totp_secret=base32_secret(device),
                                organisation=orgs[org_key].name))
    for seeder in demo_seeders:
        seeder.seed(orgs)
    audit_event_record(actor=None, action="demo.seeded", details={"people": len(logins)})
    return logins

