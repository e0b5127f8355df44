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
from django.utils import translation

from gdpr.models import AvvVersion, TomCategory, TomMeasure
from portal.notifications.identity import provider_identity

TEMPLATE = "gdpr/avv/avv_de.html"


def tom_snapshot(version: AvvVersion) -> list[dict]:
    """The version's TOMs as JSON: every category a–h with its measures in order."""
    measures: dict[str, list[str]] = {category.value: [] for category in TomCategory}
    for measure in TomMeasure.objects.filter(version=version).order_by("category", "order",
                                                                       "id"):
        measures[measure.category].append(measure.text)
    with translation.override("de"):
        return [{"category": category.value, "label": str(category.label),
                 "measures": measures[category.value]} for category in TomCategory]


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
    return avv_render(label=version.label, toms=tom_snapshot(version))
