"""The gdpr app's writes, one module per topic: the AVV (publishing, acceptance), the
sub-processor register with its objection cases, the records of processing and their
reviews. Import from the topic module; the AVV names stay importable from here."""

from gdpr.services.avv import (  # noqa: F401
    AvvState,
    avv_accept,
    avv_may_accept,
    avv_state_for,
    avv_version_publish,
    current_avv,
)
