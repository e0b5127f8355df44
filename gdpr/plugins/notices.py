"""The data-protection pages show every change notice of a customer, of every kind: the
notice e-mail links to its page there (portal/change_notices/kinds.py notice_pages)."""

from portal.change_notices.kinds import NoticePage, notice_pages


def _url(notice) -> str:
    from django.urls import reverse

    return reverse("gdpr:notice", args=[notice.pk])


notice_pages.register(NoticePage(key="gdpr.notice", url=_url))
