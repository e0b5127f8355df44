"""Settings modules: ``dev`` (local, the default of manage.py), ``test`` and ``production``."""
