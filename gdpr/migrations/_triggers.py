"""The insert-only and frozen-row triggers of the gdpr migrations (0002, 0007), written once:
SQLite gets one ``RAISE(ABORT)`` trigger per (name, event, condition, message) row,
PostgreSQL the SQL each migration brings. The migration loader skips this module (its name
starts with ``_``)."""

from __future__ import annotations


def sqlite_statements(rows) -> list[str]:
    return [f"CREATE TRIGGER {name} {event} FOR EACH ROW WHEN {when} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"
            for name, event, when, message in rows]


def trigger_operations(rows, *, postgres_forward: str, postgres_backward: str):
    """The ``forward`` and ``backward`` functions of a ``RunPython`` for both vendors."""

    def forward(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(postgres_forward, params=None)
        elif vendor == "sqlite":
            for statement in sqlite_statements(rows):
                schema_editor.execute(statement, params=None)
        else:
            raise NotImplementedError(f"gdpr: no insert-only triggers for {vendor}")

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(postgres_backward, params=None)
        else:
            for name, *_rest in rows:
                schema_editor.execute(f"DROP TRIGGER {name};", params=None)

    return forward, backward
