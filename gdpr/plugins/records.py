"""The register of processing activities in the core registries: its PDF as a document kind
and the daily job that keeps the generated records in step with bookings, AVV and
sub-processors (idempotent: a run without changes writes nothing)."""

from django.utils.translation import gettext_lazy

from gdpr.register_export import REGISTER_DOCUMENT
from portal.documents.kinds import DocumentKind, kinds
from portal.registries import Job, schedules

kinds.register(DocumentKind(REGISTER_DOCUMENT, gettext_lazy(
    "Verzeichnis der Verarbeitungstätigkeiten")))

schedules.register(Job(
    name="gdpr.processing_records_generate",
    func="gdpr.services.records.processing_records_generate_all",
    cron="20 2 * * *",
    description="Records of processing (Art. 30 GDPR) regenerated from bookings, the AVV in "
                "force and the sub-processors in force; records without bookings deactivated.",
))
