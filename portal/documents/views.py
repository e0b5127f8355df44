"""The one download of stored documents: tenant-checked, behind the MFA gate (middleware),
checksum verified; the access-log middleware records the download (``attachment``)."""

from __future__ import annotations

import io
import logging

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from portal.documents.models import Document
from portal.documents.services import document_integrity_failure_record, document_verify
from portal.http import client_ip

logger = logging.getLogger(__name__)


@login_required
@require_GET
def document_download(request, pk: int):
    # 404 for a document of another customer and for one that does not exist alike.
    document = get_object_or_404(
        Document.objects.visible_to(request.user).select_related("customer"), pk=pk)
    data = document_verify(document)
    if data is None:
        logger.error("document %s (%s): stored file does not match its SHA-256 %s; not served",
                     document.pk, document.file.name, document.sha256)
        document_integrity_failure_record(actor=request.user, document=document,
                                          ip=client_ip(request))
        return render(request, "documents/damaged.html", {"document": document}, status=409)
    response = FileResponse(io.BytesIO(data), as_attachment=True, filename=document.filename,
                            content_type=document.content_type)
    response["Cache-Control"] = "private, no-store"
    return response
