"""Staff admin registrations of the portal package."""

from portal.admin import audit, organisations, users  # noqa: F401
from portal.change_notices import admin as change_notices  # noqa: F401
from portal.documents import admin as documents  # noqa: F401
from portal.notifications import admin as notifications  # noqa: F401
