"""The gdpr app in the staff admin, one module per topic; the DPO's start page is ``dpo``."""

from gdpr.admin import (  # noqa: F401
    avv,
    certificates,
    contract_end,
    holds,
    records,
    requests,
    subprocessors,
)
