"""E-mails: subjects and plain-text parts are not HTML-escaped; the HTML part is."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail

from portal.mail import send_templated_mail
from portal.services.accounts import user_invite
from tests.factories import OrganisationFactory

TRICKY_NAME = "O'Brien <Büro> \"IT\" & Co"
TRICKY_ORG = "Kanzlei Weber & Partner mbB"
ESCAPES = ("&amp;", "&#x27;", "&#39;", "&quot;", "&lt;", "&gt;")


def _html_part(message) -> str:
    (html, mimetype), = message.alternatives
    assert mimetype == "text/html"
    return html


def test_invitation_text_and_subject_are_not_escaped(world, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory(name=TRICKY_ORG)
    actor = world["people"]["provider_admin"]
    actor.first_name, actor.last_name = "Anna", "Schmidt & Söhne"
    actor.save()
    with django_capture_on_commit_callbacks(execute=True):
        user_invite(actor=actor, organisation=organisation, email="obrien@kanzlei.example",
                    first_name="O'Brien", last_name='<Büro> "IT" & Co', role="customer_admin")
    message, = mail.outbox
    assert TRICKY_ORG in message.subject
    assert TRICKY_NAME in message.body
    assert "Anna Schmidt & Söhne" in message.body
    assert TRICKY_ORG in message.body
    for escaped in ESCAPES:
        assert escaped not in message.subject
        assert escaped not in message.body
    html = _html_part(message)
    assert "Kanzlei Weber &amp; Partner mbB" in html
    assert "O&#x27;Brien &lt;Büro&gt; &quot;IT&quot; &amp; Co" in html
    assert "&amp;amp;" not in html


class _Person:
    email = "x@example.com"
    language = "de"

    def get_full_name(self) -> str:
        return TRICKY_NAME


TEMPLATES = sorted(path.name[:-len("_subject.txt")]
                   for path in (Path(settings.BASE_DIR) / "templates" / "email").glob(
                       "*_subject.txt"))


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_names_as_written(template, db):
    """Whatever an e-mail says about a person, its text part says it as written."""
    context = {"user": _Person(), "person": _Person(), "inviter_name": TRICKY_NAME,
               "organisation_name": TRICKY_ORG, "name": TRICKY_NAME, "bookings": []}
    send_templated_mail(to="x@example.com", template=template, context=context,
                        language="de")
    message = mail.outbox[-1]
    assert "&amp;" not in message.subject + message.body
    assert "&#x27;" not in message.body
    html = _html_part(message)
    assert "&amp;amp;" not in html
