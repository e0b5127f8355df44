"""factory_boy factories for organisations, people and their second factors."""

from __future__ import annotations

import factory
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import Membership, Organisation, User
from portal.roles import ROLE_KIND, STAFF_ROLES, OrganisationKind, Role

PASSWORD = "Sicheres-Testpasswort-42"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.CUSTOMER
    name = factory.Sequence(lambda n: f"Firma {n} GmbH")
    street = factory.Sequence(lambda n: f"Hauptstraße {n}")
    postal_code = "20095"
    city = "Hamburg"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Sequence(lambda n: f"Vorname{n}")
    last_name = factory.Sequence(lambda n: f"Nachname{n}")
    password = factory.django.Password(PASSWORD)


def make_person(role: Role, organisation: Organisation | None = None, *, mfa: bool = True,
                **user_fields) -> User:
    """A person with a membership, the role's group and (by default) a confirmed TOTP device."""
    from django.contrib.auth.models import Group

    from portal.roles import group_name

    if organisation is None:
        organisation = OrganisationFactory(kind=ROLE_KIND[role])
    user = UserFactory(is_staff=role in STAFF_ROLES, **user_fields)
    Membership.objects.create(user=user, organisation=organisation, role=role)
    if not Group.objects.filter(name=group_name(role)).exists():
        # Transactional tests flush the tables, the groups of the data migration included.
        from portal.groups import role_groups_sync

        role_groups_sync()
    user.groups.add(Group.objects.get(name=group_name(role)))
    if mfa:
        TOTPDevice.objects.create(user=user, name="Test", confirmed=True)
        static = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
        StaticToken.objects.create(device=static, token="backup01")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def _today():
    from django.utils import timezone

    return timezone.localdate()


class DeviceFactory(factory.django.DjangoModelFactory):
    """An active device of a customer (a new customer unless one is given)."""

    class Meta:
        model = "devices.Device"

    customer = factory.SubFactory(OrganisationFactory)
    hostname = factory.Sequence(lambda n: f"pc-{n:05d}")
    serial_number = factory.Sequence(lambda n: f"SN{n:08d}")
    kind = "workstation"
    operating_system = "Windows 11 Pro"
    location = factory.Sequence(lambda n: f"Raum {n % 20}")
    av_signature_date = factory.LazyFunction(_today)
