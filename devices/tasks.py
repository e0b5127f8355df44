"""django-q2 jobs of the device inventory; each takes an id and calls one service."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from devices.models import DeviceImport
from devices.services import device_import_apply, device_import_preview, device_imports_cleanup


def _language_of(import_id: int, person: str) -> str:
    """The language of the person a job works for: the messages it stores are read by them."""
    language = (DeviceImport.objects.filter(pk=import_id)
                .values_list(f"{person}__language", flat=True).first())
    return language or settings.LANGUAGE_CODE


def preview_import(import_id: int) -> str | None:
    with translation.override(_language_of(import_id, "created_by")):
        result = device_import_preview(import_id=import_id)
    return result.status if result else None


def apply_import(import_id: int) -> str | None:
    with translation.override(_language_of(import_id, "confirmed_by")):
        result = device_import_apply(import_id=import_id)
    return result.status if result else None


def cleanup_imports() -> int:
    return device_imports_cleanup()
