"""The gdpr app in the staff admin, one module per topic; the DPO's start page is ``dpo``."""

import gdpr.admin.records  # noqa: F401, E402
from gdpr.admin import avv  # noqa: F401, E402
