"""Writes of the device inventory, each a service with an actor and an audit event:
``inventory`` for devices by hand and exports, ``imports`` for inventory files."""

from devices.services.imports import (
    APPLY,
    IMPORT_FLOW,
    MESSAGES_KEPT,
    PREVIEW,
    device_import_apply,
    device_import_cancel,
    device_import_confirm,
    device_import_preview,
    device_import_upload,
    device_imports_cleanup,
    device_imports_recover,
    import_cancellable,
    import_reader_language,
)
from devices.services.inventory import (
    EDITABLE_FIELDS,
    device_create,
    device_export_record,
    device_retire,
    device_unique_errors,
    device_update,
    require_device_editor,
)

__all__ = [
    "APPLY",
    "EDITABLE_FIELDS",
    "IMPORT_FLOW",
    "MESSAGES_KEPT",
    "PREVIEW",
    "device_create",
    "device_export_record",
    "device_import_apply",
    "device_import_cancel",
    "device_import_confirm",
    "device_import_preview",
    "device_import_upload",
    "device_imports_cleanup",
    "device_imports_recover",
    "device_retire",
    "device_unique_errors",
    "device_update",
    "import_cancellable",
    "import_reader_language",
    "require_device_editor",
]
