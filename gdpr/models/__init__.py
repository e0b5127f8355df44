"""The gdpr app's models: the AVV with its TOMs and acceptances, the sub-processor register
with the objection cases, the records of processing activities with their reviews, the
data-subject requests, the end of a contract (exports, reminders, data provision) and the
purge with its legal holds and deletion certificates."""

from gdpr.models.avv import (  # noqa: F401
    AvvAcceptance,
    AvvStatus,
    AvvVersion,
    Frozen,
    TomCategory,
    TomMeasure,
)
from gdpr.models.contract_end import (  # noqa: F401
    ContractEndMail,
    ContractEndMailKind,
    CustomerExport,
    DataProvisionOrder,
    ProvisionState,
)
from gdpr.models.purge import (  # noqa: F401
    CertificateKind,
    DeletionCertificate,
    LegalHold,
    PendingFileDeletion,
)
from gdpr.models.records import (  # noqa: F401
    ProcessingRecord,
    ProcessingReview,
    RecordKind,
    ReviewOutcome,
)
from gdpr.models.requests import (  # noqa: F401
    OPEN_STATES,
    DataSubjectRequest,
    ExportState,
    PersonExport,
    RequestChannel,
    RequestKind,
    RequestState,
)
from gdpr.models.subprocessors import (  # noqa: F401
    SUBPROCESSOR_KIND,
    CaseResolution,
    ObjectionCase,
    Safeguard,
    SubProcessor,
)
