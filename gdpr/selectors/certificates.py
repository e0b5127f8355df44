"""Reads of deletion certificates, through ``visible_to``: the DPO sees every one, the provider
admin those whose customer was not purged (a purged customer is a tombstone only the DPO
opens, portal/tenancy.py) and the erasure certificates without a customer."""

from __future__ import annotations

from django.db.models import QuerySet

from gdpr.models.purge import DeletionCertificate

#: Rows on the DPO's start page; the full list is one click away.
PREVIEW = 10


def certificates_visible(user) -> QuerySet:
    return DeletionCertificate.objects.visible_to(user)


def certificates_latest(user) -> list[DeletionCertificate]:
    """The newest certificates ``user`` sees (one query; the PDF link needs only its id)."""
    return list(certificates_visible(user).order_by("-performed_at", "-pk")[:PREVIEW])
