"""Rendering the AVV's binding German text (templates/gdpr/avv/avv_de.html) and its checksum.

The text is rendered from plain data only (version label, TOM snapshot, sub-processor list,
the provider's identity and DPO contact): no clock, no request, no randomness, so the same
inputs give the same bytes and the same SHA-256. Publishing (gdpr/services.py) stores both; an
acceptance stores the checksum of the text the customer admin saw.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from gdpr.models import AvvVersion, TomCategory, TomMeasure
from portal.notifications.identity import provider_identity

TEMPLATE = "gdpr/avv/avv_de.html"
READING_TEMPLATES = {"en": "gdpr/avv/avv_en.html"}


def tom_snapshot(version: AvvVersion) -> list[dict]:
    """The version's TOMs as JSON: every category a–h with its measures in order."""
    measures: dict[str, list[str]] = {category.value: [] for category in TomCategory}
    english: dict[str, list[str]] = {category.value: [] for category in TomCategory}
    for measure in TomMeasure.objects.filter(version=version).order_by("category", "order",
                                                                       "id"):
        measures[measure.category].append(measure.text)
        english[measure.category].append(measure.text_en or "")
    with translation.override("de"):
        snapshot = [{"category": category.value, "label": str(category.label),
                     "measures": measures[category.value]} for category in TomCategory]
    for category in snapshot:
        if any(english[category["category"]]):
            category["measures_en"] = english[category["category"]]
    return snapshot


def dpo_contact_lines() -> list[str]:
    """The DPO contact the AVV names: PORTAL_DPO_CONTACT, else the provider's identity."""
    if settings.PORTAL_DPO_CONTACT:
        return [part.strip() for part in settings.PORTAL_DPO_CONTACT.split(";") if part.strip()]
    identity = provider_identity()
    return [line for line in (identity.name, identity.address, identity.contact) if line]


def _normalise(text: str) -> str:
    """No trailing blanks, at most one empty line in a row, one final newline."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def avv_render(*, label: str, toms: Sequence[dict], subprocessors: Iterable[dict] = ()) -> str:
    """The binding German text of AVV ``label`` with the TOM snapshot ``toms``.

    ``subprocessors``: dicts with ``name``, ``service``, ``location``, ``safeguard``; empty
    until the sub-processor register exists (the text then says "keine")."""
    context = {
        "label": label,
        "provider": provider_identity(),
        "dpo_lines": dpo_contact_lines(),
        "toms": toms,
        "subprocessors": list(subprocessors),
    }
    with translation.override("de"):
        return _normalise(render_to_string(TEMPLATE, context))


def avv_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def avv_text_of(version: AvvVersion) -> str:
    """What a customer reads: the frozen text of a published version, a draft rendered now."""
    if version.is_published:
        return version.text_de
    from gdpr.selectors.subprocessors import subprocessors_for_avv

    return avv_render(label=version.label, toms=tom_snapshot(version),
                      subprocessors=subprocessors_for_avv(timezone.localdate()))


def _reading_toms(toms: Sequence[dict]) -> list[dict]:
    """The TOM snapshot for a reading version: category labels in the active language, each
    measure in its English wording where one was entered, else the binding German one."""
    labels = {category.value: str(category.label) for category in TomCategory}
    result = []
    for category in toms:
        english = category.get("measures_en") or []
        measures = [english[i] if i < len(english) and english[i] else text
                    for i, text in enumerate(category["measures"])]
        result.append({"category": category["category"],
                       "label": labels.get(category["category"], category["label"]),
                       "measures": measures})
    return result


def avv_reading_html(version: AvvVersion, lang: str) -> str:
    """The AVV for reading in ``lang``: German is the binding text itself (frozen once
    published); another language renders the same data (TOM snapshot, sub-processors,
    provider, DPO) with its reading template. Never hashed, never accepted: the page says
    that the German text binds."""
    template = READING_TEMPLATES.get(lang)
    if template is None:
        return avv_text_of(version)
    from gdpr.selectors.subprocessors import subprocessors_for_avv

    toms = version.toms if version.is_published else tom_snapshot(version)
    # The register the binding text names: in force when the version was published.
    day = timezone.localdate(version.published_at) if version.is_published else \
        timezone.localdate()
    subprocessors = subprocessors_for_avv(day, lang=lang)
    with translation.override(lang):
        return render_to_string(template, {
            "label": version.label, "provider": provider_identity(),
            "dpo_lines": dpo_contact_lines(), "toms": _reading_toms(toms),
            "subprocessors": subprocessors})
