"""A deletion certificate keeps the request's number, not a constraint on the request: the
request (which names the requester) is deleted when its own retention ends, while the
insert-only certificate stays.

SQLite rebuilds the table for this change, which drops its insert-only triggers (0007); they
are created again right after. PostgreSQL only drops the foreign key; its trigger stays.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

_insert_only = importlib.import_module("gdpr.migrations.0007_certificates_insert_only")


def recreate_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name, *_rest in _insert_only.SQLITE:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};", params=None)
    for statement in _insert_only.sqlite_create_statements():
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("gdpr", "0007_certificates_insert_only"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deletioncertificate",
            name="request",
            field=models.ForeignKey(blank=True, db_constraint=False, null=True,
                                    on_delete=django.db.models.deletion.DO_NOTHING,
                                    related_name="deletion_certificates",
                                    to="gdpr.datasubjectrequest",
                                    verbose_name="Betroffenenanfrage"),
        ),
        migrations.RunPython(recreate_sqlite_triggers, recreate_sqlite_triggers),
    ]
