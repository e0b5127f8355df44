"""Sending templated e-mails in the recipient's language through Django's mail API.

Subjects and plain-text parts are not HTML: they are rendered by the ``text`` template engine
(settings.TEMPLATES), which does not escape, so "Weber & Partner" and "O'Brien" arrive as
written. The HTML part is rendered by the default engine and stays escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import engines
from django.template.loader import render_to_string
from django.utils import translation

from portal.notifications.identity import provider_identity

TEXT_ENGINE = "text"
#: One footer for every e-mail: the provider's identity and the portal link.
FOOTER_TEXT = "email/_footer.txt"
FOOTER_HTML = "email/_footer.html"


def render_text(template_name: str, context: dict, request=None) -> str:
    """Render a subject or a plain-text body without HTML escaping."""
    return engines[TEXT_ENGINE].get_template(template_name).render(context, request)


def one_line(subject: str) -> str:
    """A subject is one line: line breaks of the template become spaces."""
    return " ".join(subject.split())


def _with_footer(html: str, footer: str) -> str:
    head, body_end, tail = html.rpartition("</body>")
    return f"{head}{footer}{body_end}{tail}" if body_end else html + footer


def send_templated_mail(*, to: str, template: str, context: dict, language: str,
                        attachments: Sequence[tuple[str, bytes, str]] = ()) -> None:
    """Render ``templates/email/<template>_subject.txt`` / ``_body.txt`` / ``_body.html``.

    Every body gets the shared footer (``email/_footer.txt`` / ``_footer.html``): the
    provider's identity and the portal link; templates do not repeat it."""
    context = {"portal_name": settings.PORTAL_NAME, "base_url": settings.PORTAL_BASE_URL,
               "provider": provider_identity(), **context}
    with translation.override(language):
        subject = render_text(f"email/{template}_subject.txt", context)
        subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + one_line(subject)
        text = render_text(f"email/{template}_body.txt", context).rstrip() + "\n"
        text += render_text(FOOTER_TEXT, context)
        html = _with_footer(render_to_string(f"email/{template}_body.html", context),
                            render_to_string(FOOTER_HTML, context))
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    message.send()
