"""django-q2 jobs of the device inventory; each takes an id and calls one service."""

from __future__ import annotations

from django.utils import translation

from devices.services import (
    APPLY,
    PREVIEW,
    device_import_apply,
    device_import_preview,
    device_imports_cleanup,
    device_imports_recover,
    import_reader_language,
)


def preview_import(import_id: int) -> str | None:
    with translation.override(import_reader_language(import_id, PREVIEW)):
        result = device_import_preview(import_id=import_id)
    return result.status if result else None


def apply_import(import_id: int) -> str | None:
    with translation.override(import_reader_language(import_id, APPLY)):
        result = device_import_apply(import_id=import_id)
    return result.status if result else None


def recover_imports() -> dict[str, int]:
    """Every few minutes: imports stuck in a step are sent again or failed (docs/adr/0008)."""
    return device_imports_recover()


def cleanup_imports() -> int:
    return device_imports_cleanup()
