"""Reading what a page shows in tests."""

from __future__ import annotations


def page_sections(response) -> dict:
    """The sections other apps contributed to a page (``portal.registries.sections``), by
    key, with the data their templates got."""
    return {section.key: section.data for section in response.context["sections"]}
