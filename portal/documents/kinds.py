"""The kinds of documents the portal makes, declared once by the app that makes them (like the
audit actions): a code stored on ``Document.kind`` and the label people read in the admin.
``document_create`` refuses a kind nobody declared."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal.registries import Registry


@dataclass(frozen=True)
class DocumentKind:
    code: str
    label: str | Promise


kinds: Registry[DocumentKind] = Registry(
    "document_kinds", key=lambda k: k.code, order=lambda k: str(k.label))


def kind_label(code: str) -> str:
    """The label of ``code``; a kind no longer declared shows its code."""
    return str(kinds.get(code).label) if code in kinds else code


class KindFilter(admin.SimpleListFilter):
    """The admin filter over the declared kinds, by label."""

    title = _("Art")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(kind.code, kind.label) for kind in kinds]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset
