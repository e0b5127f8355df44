"""What gdpr plugs into the core (portal/registries.py and the other core registries), one
module per topic; ``portal.registries.autodiscover`` imports this package."""

import gdpr.plugins.records  # noqa: F401, E402
from gdpr.plugins import avv  # noqa: F401, E402
from gdpr.plugins import documents  # noqa: F401, E402
from gdpr.plugins import dpo  # noqa: F401, E402
