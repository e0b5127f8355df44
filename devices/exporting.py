"""Building export files of the inventory (CSV with BOM for Excel, or XLSX)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from import_export.formats.base_formats import CSV, XLSX

from devices.resources import DeviceResource

FORMATS = {"csv": CSV, "xlsx": XLSX}


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    content_type: str
    file_name: str
    count: int


def export_devices(queryset: QuerySet, file_format: str, *, name: str) -> ExportFile:
    """The devices of ``queryset`` (already scoped by ``visible_to``) as a file."""
    if file_format not in FORMATS:
        raise ValueError(f"Unknown export format {file_format!r}.")
    dataset = DeviceResource().export(queryset=queryset.order_by("hostname", "pk"))
    fmt = FORMATS[file_format]()
    # German spreadsheet programs expect ";" between CSV columns.
    content = fmt.export_data(dataset, **({"delimiter": ";"} if file_format == "csv" else {}))
    if isinstance(content, str):
        content = ("\ufeff" + content).encode("utf-8")
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    return ExportFile(content=content, content_type=fmt.get_content_type(),
                      file_name=f"geraete-{name}-{stamp}.{file_format}", count=len(dataset))
