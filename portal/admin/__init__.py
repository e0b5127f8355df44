"""Staff admin registrations of the portal package."""

from portal.admin import audit, organisations, users  # noqa: F401
from portal.notifications import admin as notifications  # noqa: F401
