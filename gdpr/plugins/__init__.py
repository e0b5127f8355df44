"""What gdpr plugs into the core (portal/registries.py and the other core registries), one
module per topic; ``portal.registries.autodiscover`` imports this package."""

from gdpr.plugins import (  # noqa: F401
    avv,
    contract_end,
    demo,
    documents,
    dpo,
    exports,
    holds,
    notices,
    purge,
    records,
    requests,
    subprocessors,
)
