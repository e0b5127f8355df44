"""The database itself refuses changes to acceptances and to published versions (migration
gdpr/0002), through the ORM's bulk paths and raw SQL alike, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from gdpr.models import AvvAcceptance, AvvVersion, Frozen, TomMeasure
from gdpr.services import avv_accept

pytestmark = pytest.mark.django_db


@pytest.fixture
def acceptance(world, published):
    with transaction.atomic():
        return avv_accept(actor=world["people"]["customer_admin"],
                          customer=world["orgs"]["customer_a"], version=published,
                          sha256_seen=published.sha256, ip="192.0.2.7", user_agent="UA")


def _refused(action):
    with pytest.raises(IntegrityError), transaction.atomic():
        action()


def _raw(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_acceptance_is_refused_update_and_delete_by_the_orm(acceptance):
    with pytest.raises(Frozen):
        acceptance.save()
    with pytest.raises(Frozen):
        acceptance.delete()
    _refused(lambda: AvvAcceptance.objects.filter(pk=acceptance.pk).update(ip="198.51.100.1"))
    _refused(lambda: AvvAcceptance.objects.filter(pk=acceptance.pk).delete())
    assert AvvAcceptance.objects.get(pk=acceptance.pk).ip == "192.0.2.7"


def test_an_acceptance_is_refused_update_and_delete_by_raw_sql(acceptance):
    _refused(lambda: _raw("UPDATE gdpr_avvacceptance SET user_agent = %s WHERE id = %s",
                          "x", acceptance.pk))
    _refused(lambda: _raw("DELETE FROM gdpr_avvacceptance WHERE id = %s", acceptance.pk))
    assert AvvAcceptance.objects.get(pk=acceptance.pk).user_agent == "UA"


def test_a_published_version_and_its_toms_are_refused_by_the_database(published):
    _refused(lambda: AvvVersion.objects.filter(pk=published.pk).update(text_de="anders"))
    _refused(lambda: _raw("UPDATE gdpr_avvversion SET sha256 = %s WHERE id = %s",
                          "0" * 64, published.pk))
    _refused(lambda: _raw("DELETE FROM gdpr_avvversion WHERE id = %s", published.pk))
    _refused(lambda: TomMeasure.objects.filter(version=published).update(text="anders"))
    _refused(lambda: TomMeasure.objects.filter(version=published).delete())
    _refused(lambda: _raw("INSERT INTO gdpr_tommeasure (version_id, category, text, \"order\") "
                          "VALUES (%s, 'a', 'neu', 0)", published.pk))
    assert AvvVersion.objects.get(pk=published.pk).text_de == published.text_de


def test_a_draft_stays_editable_in_the_database(db):
    from tests.gdpr.conftest import draft_version

    draft = draft_version()
    TomMeasure.objects.filter(version=draft).update(text="geändert")
    AvvVersion.objects.filter(pk=draft.pk).update(label="2026-9")
    AvvVersion.objects.filter(pk=draft.pk).delete()
    assert not TomMeasure.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_leaves_acceptances_behind_for_the_flush(world, published):
    """The browser tests run in transactional tests: the flush after them must empty the
    tables although the triggers refuse deleting acceptances (tests/conftest.py)."""
    avv_accept(actor=world["people"]["customer_admin"], customer=world["orgs"]["customer_a"],
               version=published, sha256_seen=published.sha256, ip=None, user_agent="")
    assert AvvAcceptance.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_after_that_flush_the_tables_are_empty_and_the_triggers_back(world, published):
    assert not AvvAcceptance.objects.exists()
    acceptance = avv_accept(actor=world["people"]["customer_admin"],
                            customer=world["orgs"]["customer_a"], version=published,
                            sha256_seen=published.sha256, ip=None, user_agent="")
    _refused(lambda: AvvAcceptance.objects.filter(pk=acceptance.pk).delete())
