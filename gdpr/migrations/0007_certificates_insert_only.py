"""The database refuses UPDATE and DELETE of deletion certificates (insert-only evidence,
gdpr/models/purge.py), like the AVV acceptances (0002). Both refusals raise IntegrityError.
The SQLite statements are also used by the tests' flush (tests/conftest.py)."""

from django.db import migrations

from gdpr.migrations._triggers import sqlite_statements, trigger_operations
from portal.groups import sync_after_migrating

INSERT_ONLY = "Löschprotokolle sind unveränderlich (nur Einfügen)"

SQLITE = [
    ("gdpr_deletioncertificate_no_update", "BEFORE UPDATE ON gdpr_deletioncertificate", "1",
     INSERT_ONLY),
    ("gdpr_deletioncertificate_no_delete", "BEFORE DELETE ON gdpr_deletioncertificate", "1",
     INSERT_ONLY),
]

POSTGRES_FORWARD = f"""
CREATE TRIGGER gdpr_deletioncertificate_insert_only
    BEFORE UPDATE OR DELETE ON gdpr_deletioncertificate
    FOR EACH ROW EXECUTE FUNCTION gdpr_refuse('{INSERT_ONLY}');
"""

POSTGRES_BACKWARD = "DROP TRIGGER gdpr_deletioncertificate_insert_only ON gdpr_deletioncertificate;"


def sqlite_create_statements() -> list[str]:
    """The SQLite triggers (also used by the tests' flush, tests/conftest.py)."""
    return sqlite_statements(SQLITE)


forward, backward = trigger_operations(SQLITE, postgres_forward=POSTGRES_FORWARD,
                                       postgres_backward=POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("gdpr", "0006_contract_end_and_purge")]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.RunPython(sync_after_migrating("gdpr"), migrations.RunPython.noop),
    ]
