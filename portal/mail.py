"""Sending templated e-mails in the recipient's language through Django's mail API.

Subjects and plain-text parts are not HTML: they are rendered by the ``text`` template engine
(settings.TEMPLATES), which does not escape, so "Weber & Partner" and "O'Brien" arrive as
written. The HTML part is rendered by the default engine and stays escaped.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import engines
from django.template.loader import render_to_string
from django.utils import translation

TEXT_ENGINE = "text"


def render_text(template_name: str, context: dict, request=None) -> str:
    """Render a subject or a plain-text body without HTML escaping."""
    return engines[TEXT_ENGINE].get_template(template_name).render(context, request)


def one_line(subject: str) -> str:
    """A subject is one line: line breaks of the template become spaces."""
    return " ".join(subject.split())


def send_templated_mail(*, to: str, template: str, context: dict, language: str) -> None:
    """Render ``templates/email/<template>_subject.txt`` / ``_body.txt`` / ``_body.html``."""
    context = {"portal_name": settings.PORTAL_NAME, "base_url": settings.PORTAL_BASE_URL,
               **context}
    with translation.override(language):
        subject = render_text(f"email/{template}_subject.txt", context)
        subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + one_line(subject)
        text = render_text(f"email/{template}_body.txt", context)
        html = render_to_string(f"email/{template}_body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()
