"""The e-mail that tells a customer's admins about a change notice (registered in
``portal.plugins``); sending it records the notice's delivery."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.notifications.registry import NotificationRule, customer_admins


def notice_context(notification) -> dict:
    from portal.change_notices.kinds import kind_label, notice_page_url
    from portal.change_notices.models import ChangeNotice

    notice = ChangeNotice.objects.get(pk=notification.context["notice_id"])
    return {"notice": notice, "kind_label": kind_label(notice.kind),
            "notice_url": notice_page_url(notice)}


def _delivered(notification) -> None:
    from portal.change_notices.services import change_notice_delivered

    change_notice_delivered(notification)


RULE = NotificationRule(event="change_notice.issued", template="change_notice_issued",
                        label=_("Änderungsmitteilung"), recipients=customer_admins,
                        context=notice_context, on_sent=_delivered)
