"""Publishing an AVV version: the text is rendered deterministically and frozen with its hash."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from gdpr.avv import avv_render, avv_sha256, avv_text_of, tom_snapshot
from gdpr.models import AvvVersion, Frozen, TomMeasure
from gdpr.services import avv_version_publish, current_avv
from portal.models import AuditEvent
from tests.gdpr.conftest import draft_version

pytestmark = pytest.mark.django_db


def test_same_version_renders_to_the_same_bytes_and_hash_twice(published):
    again = avv_render(label=published.label, toms=tom_snapshot(published))
    assert again.encode() == published.text_de.encode()
    assert avv_sha256(again) == published.sha256 == avv_sha256(published.text_de)


def test_the_text_holds_the_content_of_002_23(published, settings):
    text = published.text_de
    for part in ("Version 2026-1", "Art und Zweck der Verarbeitung", "Kategorien betroffener",
                 "Laufzeit des Rahmenvertrags", "Pflichten des Auftragnehmers",
                 "a. Zutrittskontrolle", "h. Verfahren zur regelmäßigen Überprüfung",
                 "Maßnahme h", "Europäischen Wirtschaftsraums",
                 "keine Unterauftragsverarbeiter", "Home-Office", "Datenschutzbeauftragter"):
        assert part in text, part


def test_the_dpo_contact_comes_from_the_setting(db, settings):
    settings.PORTAL_DPO_CONTACT = "Dr. Erika Muster; Hauptstr. 1, 30161 Hannover; dsb@example.de"
    text = avv_render(label="x", toms=[])
    assert "Dr. Erika Muster<br>\nHauptstr. 1, 30161 Hannover<br>\ndsb@example.de" in text


def test_a_changed_tom_gives_a_different_hash_on_the_next_version(published):
    nxt = draft_version("2026-2")
    TomMeasure.objects.filter(version=nxt, category="a").update(text="Neue Zutrittskontrolle")
    nxt = avv_version_publish(actor=None, version=nxt)
    assert nxt.sha256 != published.sha256
    assert nxt.toms[0]["measures"] == ["Neue Zutrittskontrolle"]
    assert current_avv() == nxt


def test_publishing_freezes_text_toms_hash_and_records_an_audit_event(published):
    assert published.is_published and published.published_at is not None
    assert [c["category"] for c in published.toms] == list("abcdefgh")
    event = AuditEvent.objects.get(action="avv.published")
    assert event.details == {"label": "2026-1", "sha256": published.sha256}
    # The frozen text is what customers read, even if rendering would now differ.
    assert avv_text_of(published) == published.text_de


def test_a_published_version_and_its_toms_are_never_edited(published):
    published.label = "anders"
    with pytest.raises(Frozen):
        published.save()
    with pytest.raises(Frozen):
        published.measures.first().save()
    with pytest.raises(Frozen):
        TomMeasure(version=published, category="a", text="neu").save()
    with pytest.raises(ValidationError):
        avv_version_publish(actor=None, version=AvvVersion.objects.get(pk=published.pk))


def test_a_version_without_measures_in_a_category_is_not_published(db):
    version = draft_version()
    TomMeasure.objects.filter(version=version, category="g").delete()
    with pytest.raises(ValidationError, match="g"):
        avv_version_publish(actor=None, version=version)
    assert not AvvVersion.objects.get(pk=version.pk).is_published


@pytest.mark.parametrize("who", ["provider_staff", "dpo", "partner_support", "customer_admin"])
def test_only_a_provider_admin_publishes(world, who):
    with pytest.raises(PermissionDenied):
        avv_version_publish(actor=world["people"][who], version=draft_version())
    version = avv_version_publish(actor=world["people"]["provider_admin"],
                                  version=AvvVersion.objects.get())
    assert version.published_by == world["people"]["provider_admin"]
