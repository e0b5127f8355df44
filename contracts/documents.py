"""The contract documents (portal/documents renders and stores them): the booking
confirmation attached to the booking e-mail, and the contract summary a person downloads from
the contract page."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contracts.models import Booking, Contract
from contracts.selectors import contract_bookings, contract_summary
from contracts.terms import notice_words
from portal.documents.models import Document
from portal.documents.privacy import BUSINESS_LETTER_RETENTION
from portal.documents.render import PDF_A
from portal.documents.services import document_create
from portal.models import Organisation, User
from portal.money import money
from portal.tenancy import membership_of

BOOKING_CONFIRMATION = "booking_confirmation"
CONTRACT_SUMMARY = "contract_summary"


def _filename(prefix: str, customer: Organisation, day) -> str:
    return f"{prefix}-{customer.customer_number or customer.pk}-{day:%Y-%m-%d}.pdf"


def _person(user: User | None) -> tuple[str, str]:
    if user is None:
        return "", ""
    membership = membership_of(user)
    return (user.get_full_name() or user.email,
            membership.organisation.name if membership else "")


def booking_confirmation_create(*, actor: User | None, customer: Organisation,
                                bookings: list[Booking], issued: datetime,
                                lang: str = "de") -> Document:
    """The confirmation of bookings made together: a business letter (PDF/A-3b, kept six years,
    § 257 HGB), dated when they were booked."""
    contract = bookings[0].contract
    booked_by, organisation = _person(actor)
    with translation.override(lang):
        title = _("Buchungsbestätigung")
        filename = _filename(_("Buchungsbestaetigung"), customer, timezone.localdate(issued))
    return document_create(
        actor=actor, customer=customer, kind=BOOKING_CONFIRMATION,
        template="contracts/pdf/booking_confirmation.html",
        context={"title": title, "customer": customer, "contract": contract,
                 "bookings": bookings, "booked_by": booked_by,
                 "booked_by_organisation": organisation if organisation != customer.name else "",
                 "booked_at": issued,
                 "total": money(sum((b.monthly_price for b in bookings), start=0))},
        filename=filename, title=title, lang=lang, issued=issued,
        retention=BUSINESS_LETTER_RETENTION, pdf_variant=PDF_A)


def booking_confirmation_attachments(notification) -> list[int]:
    """The ``attachments`` of the ``booking.created`` rule: run in the job, once per batch."""
    bookings = list(Booking.objects.filter(pk__in=notification.context.get("booking_ids", []),
                                           customer=notification.customer)
                    .select_related("device", "contract").order_by("device__hostname", "pk"))
    if not bookings:
        return []
    document = booking_confirmation_create(
        actor=notification.actor, customer=notification.customer, bookings=bookings,
        issued=notification.created_at, lang=notification.language)
    return [document.pk]


def contract_summary_create(*, actor: User, contract: Contract, lang: str) -> Document:
    """A summary of ``contract`` as ``actor`` sees it now (no retention: a copy on request)."""
    customer = contract.customer
    summary = contract_summary(actor, contract)
    issued = timezone.now()
    with translation.override(lang):
        title = _("Vertragsübersicht")
        filename = _filename(_("Vertragsuebersicht"), customer, timezone.localdate(issued))
        rules = sorted((b.plan_name, notice_words(b)) for b in summary.rule_bookings)
    bookings = list(contract_bookings(actor, contract).select_related("device"))
    return document_create(
        actor=actor, customer=customer, kind=CONTRACT_SUMMARY,
        template="contracts/pdf/contract_summary.html",
        context={"title": title, "customer": customer, "contract": contract,
                 "summary": summary, "rules": rules, "bookings": bookings,
                 "requested_by": _person(actor)[0]},
        filename=filename, title=title, lang=lang, issued=issued)
