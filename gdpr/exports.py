"""The ZIP of a person's data (Art. 15/20 DSGVO): one JSON file per privacy-registry entry,
a README that says what each file is, and a PDF summary in German (document renderer).

Built in memory and returned as bytes; storing it, progress and state are the job's
(gdpr/services/exports.py). Machine-readable (Art. 20): UTF-8 JSON, indented, dates ISO 8601.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import translation
from django.utils.translation import gettext as _

from portal.documents.render import render_pdf
from portal.privacy import Category, PrivacyEntry, entries

PDF_TEMPLATE = "gdpr/pdf/export_summary.html"
PDF_NAME = "Zusammenfassung.pdf"
README_NAME = "README.txt"
#: The German summary: the person reads it; the JSON is for machines.
SUMMARY_LANGUAGE = "de"


def entry_file_name(entry: PrivacyEntry) -> str:
    """``<app>.<Model>.json``, e.g. ``devices.Device.json``."""
    return f"{entry.model}.json"


@dataclass(frozen=True)
class EntrySummary:
    file_name: str
    model: str
    title: str
    rows: int
    categories: tuple[str, ...]
    retention: str
    why: str


def _summary(entry: PrivacyEntry, rows: list[dict]) -> EntrySummary:
    model = entry.model_class
    categories = tuple(dict.fromkeys(str(Category(c).label) for c in entry.fields.values()))
    if entry.retention is not None:
        retention = str(entry.retention)
    else:
        retention = _("keine gesetzliche Aufbewahrungspflicht: wird bei einer Löschung oder "
                      "nach dem Vertragsende gelöscht oder pseudonymisiert")
    return EntrySummary(file_name=entry_file_name(entry), model=entry.model,
                        title=str(model._meta.verbose_name_plural), rows=len(rows),
                        categories=categories, retention=retention, why=entry.why)


def _json(rows: list[dict]) -> bytes:
    return json.dumps(rows, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


def _readme(subject, issued: datetime, summaries: list[EntrySummary]) -> str:
    lines = [
        _("Datenkopie nach Art. 15 und Art. 20 DSGVO"),
        _("Person: %(name)s <%(email)s>") % {"name": subject.get_full_name(),
                                              "email": subject.email},
        _("Erstellt am: %(when)s") % {"when": issued.isoformat(timespec="seconds")},
        "",
        _("%(pdf)s: die Zusammenfassung zum Lesen.") % {"pdf": PDF_NAME},
        _("Jede JSON-Datei (UTF-8, Datumsangaben nach ISO 8601) enthält die Zeilen einer "
          "Tabelle, die Sie betreffen:"),
        "",
    ]
    for summary in summaries:
        lines += [
            f"{summary.file_name} – {summary.title} ({summary.rows})",
            "  " + _("Kategorien: %(list)s") % {"list": ", ".join(summary.categories) or "–"},
            "  " + _("Aufbewahrung: %(rule)s") % {"rule": summary.retention},
        ]
        if summary.why:
            lines.append("  " + summary.why)
        lines.append("")
    return "\n".join(lines)


def export_archive(subject, *, issued: datetime,
                   on_entry: Callable[[int], None] = lambda done: None) -> bytes:
    """The ZIP of everything the registry holds about ``subject``; ``on_entry(done)`` after
    each registry entry (the job's progress)."""
    buffer = io.BytesIO()
    summaries: list[EntrySummary] = []
    with translation.override(SUMMARY_LANGUAGE), \
            zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, entry in enumerate(entries, start=1):
            rows = entry.export_rows(subject)
            archive.writestr(entry_file_name(entry), _json(rows))
            summaries.append(_summary(entry, rows))
            on_entry(done)
        archive.writestr(README_NAME, _readme(subject, issued, summaries))
        archive.writestr(PDF_NAME, render_pdf(PDF_TEMPLATE, {
            "title": _("Ihre Daten im Kundenportal"), "subject": subject,
            "summaries": summaries, "total": sum(s.rows for s in summaries),
        }, lang=SUMMARY_LANGUAGE, issued=issued))
    return buffer.getvalue()
