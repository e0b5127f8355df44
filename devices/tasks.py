"""django-q2 jobs of the device inventory; each takes an id and calls one service."""

from __future__ import annotations

from devices.services import device_import_apply, device_import_preview, device_imports_cleanup


def preview_import(import_id: int) -> str | None:
    result = device_import_preview(import_id=import_id)
    return result.status if result else None


def apply_import(import_id: int) -> str | None:
    result = device_import_apply(import_id=import_id)
    return result.status if result else None


def cleanup_imports() -> int:
    return device_imports_cleanup()
