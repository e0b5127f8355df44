"""The e-mails of data-subject requests (registered in ``gdpr.plugins.requests``; sent by the
core outbox job, see ``portal.notifications``).

* ``dsr.extended`` tells the requester that the deadline was extended, why and until when
  (Art. 12(3) DSGVO). The outbox sends to accounts; a requester without an account (a request
  by letter or e-mail that names no account) gets the same e-mail through a django-q2 task
  queued after the commit (``extension_mail_queue``).
* ``dsr.reminder`` reminds the handlers 7 days and 1 day before the deadline in force: the
  provider's DPOs, or its administrators while there is no DPO.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.notifications.registry import NotificationRule, customer_admins, the_person

EXTENSION_TEMPLATE = "dsr_extended"
REMINDER_TEMPLATE = "dsr_reminder"


def request_handlers(event) -> list:
    """The DPOs of the provider; its administrators where there is none."""
    from portal.models import User
    from portal.roles import Role

    for role in (Role.DPO, Role.PROVIDER_ADMIN):
        people = list(User.objects.filter(is_active=True, memberships__role=role)
                      .order_by("pk"))
        if people:
            return people
    return []


def _request(pk: int):
    from gdpr.models import DataSubjectRequest

    return DataSubjectRequest.objects.get(pk=pk)


def extension_context(notification) -> dict:
    return {"dsr": _request(notification.context["request_id"])}


def reminder_context(notification) -> dict:
    from django.conf import settings
    from django.urls import reverse

    dsr = _request(notification.context["request_id"])
    return {"dsr": dsr, "days": notification.context["days"],
            "request_url": settings.PORTAL_BASE_URL.rstrip("/")
            + reverse("admin:gdpr_datasubjectrequest_change", args=[dsr.pk])}


def extension_mail_queue(pk: int) -> None:
    from django_q.tasks import async_task

    async_task("gdpr.notifications.extension_mail_send", pk,
               task_name=f"dsr-extension:{pk}")


def extension_mail_send(pk: int) -> None:
    """The extension e-mail to a requester without an account (the task of
    ``extension_mail_queue``); recorded in the audit trail."""
    from django.db import transaction

    from portal.mail import send_templated_mail
    from portal.services.audit import audit_event_record

    dsr = _request(pk)
    send_templated_mail(to=dsr.requester_email, template=EXTENSION_TEMPLATE, language="de",
                        context={"user": None, "dsr": dsr})
    with transaction.atomic():
        audit_event_record(actor=None, action="dsr.extension_mailed", target=dsr,
                           organisation=dsr.customer)


RULES = (
    NotificationRule(event="dsr.extended", template=EXTENSION_TEMPLATE,
                     label=_("Frist einer Betroffenenanfrage verlängert"),
                     recipients=the_person, context=extension_context),
    NotificationRule(event="dsr.reminder", template=REMINDER_TEMPLATE,
                     label=_("Erinnerung an die Frist einer Betroffenenanfrage"),
                     recipients=request_handlers, context=reminder_context),
)


# --- the end of a contract (gdpr.plugins.contract_end) ------------------------------------------

CONTRACT_END_REGISTERED_TEMPLATE = "contract_end_registered"
CONTRACT_END_REMINDER_TEMPLATE = "contract_end_reminder"
PROVISION_ORDERED_TEMPLATE = "provision_order_created"


def provider_staff(event) -> list:
    """Who carries out a data provision: the provider's administrators and staff."""
    from portal.models import User
    from portal.roles import Role

    return list(User.objects.filter(
        is_active=True, memberships__role__in=(Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF))
        .order_by("pk"))


def contract_end_context(notification) -> dict:
    """The dates around the end (``portal.periods.purge_schedule``), how many days are left
    and whether a provision order is still possible, as of the day the mail was queued, the
    page's link, and whether the end came from removing the last booking (the contract then
    ends with it unless something is booked again, ``contracts_end_due``: not a "cancelled
    contract")."""
    from datetime import date

    from django.conf import settings
    from django.urls import reverse
    from django.utils import timezone

    from contracts.terminations import TerminationWay
    from portal.periods import purge_schedule

    end = date.fromisoformat(notification.context["contract_end"])
    schedule = purge_schedule(contract_end=end)
    queued = timezone.localdate(notification.created_at)
    return {"schedule": schedule, "days_left": (end - queued).days,
            "provision_open": queued <= schedule.provision_order_by,
            "customer_name": notification.customer.name if notification.customer else "",
            "last_booking_removed": (notification.context.get("way")
                                     == TerminationWay.LAST_BOOKING_REMOVED),
            "page_url": settings.PORTAL_BASE_URL.rstrip("/") + reverse("gdpr:contract_end")}


def provision_order_context(notification) -> dict:
    from django.conf import settings
    from django.urls import reverse

    from gdpr.models import DataProvisionOrder

    order = DataProvisionOrder.objects.select_related("customer", "ordered_by").get(
        pk=notification.context["order_id"])
    return {"order": order,
            "order_url": settings.PORTAL_BASE_URL.rstrip("/")
            + reverse("admin:gdpr_dataprovisionorder_change", args=[order.pk])}


CONTRACT_END_RULES = (
    NotificationRule(event="contract_end.registered", template=CONTRACT_END_REGISTERED_TEMPLATE,
                     label=_("Kündigung erfasst: Daten sichern bis zum Vertragsende"),
                     recipients=customer_admins, context=contract_end_context),
    NotificationRule(event="contract_end.reminder", template=CONTRACT_END_REMINDER_TEMPLATE,
                     label=_("Erinnerung 28 Tage vor Vertragsende"),
                     recipients=customer_admins, context=contract_end_context),
    NotificationRule(event="provision_order.created", template=PROVISION_ORDERED_TEMPLATE,
                     label=_("Datenbereitstellung beauftragt"),
                     recipients=provider_staff, context=provision_order_context),
)
