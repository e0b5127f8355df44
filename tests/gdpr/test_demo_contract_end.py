"""The demo's end-of-contract data (gdpr/demo_contract_end.py): a customer purged by the purge
job with its certificate, one whose contract ends in three weeks with both mails sent."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from contracts.models import Contract, ContractStatus
from gdpr.models import ContractEndMail, DeletionCertificate
from gdpr.services.purge import purge_due
from portal.models import Organisation, User


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())


def test_the_purged_demo_customer_has_a_certificate_for_the_dpo(seeded):
    tomb = Organisation.objects.get(customer_number="K-10006")
    assert tomb.name == "K-10006" and tomb.purged_at is not None and tomb.street == ""
    certificate = DeletionCertificate.objects.get(customer=tomb)
    assert certificate.kind == "purge" and certificate.document is not None
    assert certificate.contract_end == timezone.localdate() - timedelta(days=70)
    dpo = User.objects.get(email="datenschutz@nordlicht-it.example")
    staff = User.objects.get(email="support@nordlicht-it.example")
    assert DeletionCertificate.objects.visible_to(dpo).filter(pk=certificate.pk).exists()
    assert not DeletionCertificate.objects.visible_to(staff).filter(pk=certificate.pk).exists()
    assert not User.objects.filter(email="it@autohaus-brandt.example").exists()
    assert purge_due().purged == []


def test_the_ending_demo_customer_got_the_termination_mail_and_the_reminder(seeded):
    customer = Organisation.objects.get(customer_number="K-10005")
    contract = Contract.objects.get(customer=customer)
    assert contract.status == ContractStatus.ENDING
    assert contract.effective_end == timezone.localdate() + timedelta(days=21)
    kinds = set(ContractEndMail.objects.filter(customer=customer).values_list("kind", flat=True))
    assert kinds == {"registered", "reminder"}


def test_seeding_again_changes_nothing(seeded):
    counts = (DeletionCertificate.objects.count(), ContractEndMail.objects.count(),
              Organisation.objects.count(), User.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert counts == (DeletionCertificate.objects.count(), ContractEndMail.objects.count(),
                      Organisation.objects.count(), User.objects.count())
