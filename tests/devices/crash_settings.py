"""Settings of the separate processes of the worker-kill test (tests/devices/crash_runner.py).

They share the database (SQLite file or PostgreSQL test database, from SQLITE_PATH or
DATABASE_URL) and the stored files (a directory, CRASH_MEDIA_ROOT) with each other and the test.
"""

import os

from portal.settings.test import *  # noqa: F403

MEDIA_ROOT = os.environ["CRASH_MEDIA_ROOT"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": MEDIA_ROOT}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
