"""The database refuses UPDATE and DELETE of deletion certificates (insert-only evidence,
gdpr/models/purge.py), like the AVV acceptances (0002). Both refusals raise IntegrityError.
The SQLite statements are also used by the tests' flush (tests/conftest.py)."""

from django.db import migrations

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
    return [f"CREATE TRIGGER {name} {event} FOR EACH ROW WHEN {when} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"
            for name, event, when, message in SQLITE]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in sqlite_create_statements():
            schema_editor.execute(statement, params=None)
    else:
        raise NotImplementedError(f"gdpr: no insert-only triggers for {vendor}")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)
    else:
        for name, *_rest in SQLITE:
            schema_editor.execute(f"DROP TRIGGER {name};", params=None)


class Migration(migrations.Migration):
    dependencies = [("gdpr", "0006_contract_end_and_purge")]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.RunPython(sync_after_migrating("gdpr"), migrations.RunPython.noop),
    ]
