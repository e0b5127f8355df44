"""Deletion certificates (Löschprotokolle) in the staff admin: read-only list and page for the
DPO and the provider admin, with the PDF one click away.

Nobody adds, changes or deletes a certificate here: the purge and the erasure write them, and
the database refuses every change (insert-only, migration gdpr/0007). Purge certificates of a
purged customer are the DPO's only (its organisation is a tombstone, portal/tenancy.py); the
PDF is served by the one tenant-checked document download.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gdpr.certificates import retained_rows, store_rows
from gdpr.models import DeletionCertificate
from gdpr.selectors.certificates import PREVIEW, certificates_latest, certificates_visible
from gdpr.selectors.holds import holds_active
from portal.admin.base import ReadOnlyAdmin
from portal.tenancy import role_of


def _store_cell(row) -> str:
    if not row.label:
        return format_html("{}", row.title)
    return format_html('{} <span class="quiet">({})</span>', row.title, row.label)


def _dash(value) -> str:
    return "–" if value is None or value == "" else value


def pdf_link(certificate: DeletionCertificate) -> str:
    if not certificate.document_id:
        return "–"
    return format_html('<a href="{}">{}</a>',
                       reverse("portal:document_download", args=[certificate.document_id]),
                       gettext("PDF herunterladen"))


@admin.register(DeletionCertificate)
class DeletionCertificateAdmin(ReadOnlyAdmin):
    list_display = ("reference", "kind", "performed_at", "deleted_rows", "backup_expires_on",
                    "pdf")
    list_filter = ("kind", "performed_at")
    search_fields = ("reference", "rule_version")
    date_hierarchy = "performed_at"
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("kind", "reference", "request", "contract_end", "performed_at",
                           "performed_by", "method", "rule_version", "pdf")}),
        (_("Datenbestände"), {"fields": ("stores_table", "deleted_rows",
                                         "deleted_ids_sha256", "backup_expires_on")}),
        (_("Aufbewahrt (gesetzliche Pflicht)"), {"fields": ("retained_table",)}),
        (_("Protokoll"), {"fields": ("created_at",)}),
    )
    readonly_fields = ("kind", "reference", "request", "contract_end", "performed_at",
                       "performed_by", "method", "rule_version", "pdf", "stores_table",
                       "deleted_rows", "deleted_ids_sha256", "backup_expires_on",
                       "retained_table", "created_at")

    def get_queryset(self, request):
        return certificates_visible(request.user)

    @admin.display(description=_("PDF"))
    def pdf(self, obj: DeletionCertificate) -> str:
        return pdf_link(obj)

    @admin.display(description=_("Datenbestände"))
    def stores_table(self, obj: DeletionCertificate) -> str:
        rows = store_rows(obj)
        if not rows:
            return "–"
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                                "<td>{}</td></tr>",
                                ((_store_cell(r), r.kind, _dash(r.before), _dash(r.after),
                                  r.action) for r in rows))
        return format_html(
            '<table class="stacked"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext("Datenbestand"), gettext("Art"), gettext("vorher"), gettext("nachher"),
            gettext("Maßnahme"), body)

    @admin.display(description=_("aufbewahrt"))
    def retained_table(self, obj: DeletionCertificate) -> str:
        rows = retained_rows(obj)
        if not rows:
            return gettext("Nichts wurde aufbewahrt.")
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (_store_cell(r), _dash(r.count), _dash(r.basis),
             date_format(r.until, "SHORT_DATE_FORMAT") if hasattr(r.until, "strftime")
             else _dash(r.until))
            for r in rows))
        return format_html(
            '<table class="stacked"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            gettext("Datenbestand"), gettext("Anzahl"), gettext("Rechtsgrundlage"),
            gettext("aufbewahrt bis"), body)


def purge_start_section(request) -> dict | None:
    """The DPO's start page (gdpr/admin/dpo.py): the newest deletion certificates and the
    active legal holds, three queries however many there are."""
    from gdpr.admin.dpo import START_PAGE_ROLES

    if role_of(request.user) not in START_PAGE_ROLES:
        return None
    holds = holds_active(request.user)
    return {"certificates": [(c, pdf_link(c)) for c in certificates_latest(request.user)],
            "holds": list(holds[:PREVIEW]), "holds_total": holds.count()}
