"""The database refuses what the models refuse (gdpr/models.py): UPDATE and DELETE of AVV
acceptances (insert-only evidence), UPDATE and DELETE of published AVV versions, and any
change to the TOMs of a published version. Both refusals raise IntegrityError.

SQLite: beware that a later migration which makes Django rebuild one of these tables (SQLite
cannot alter columns in place) drops its triggers; tests/gdpr/test_frozen_rows.py notices.
"""

from django.db import migrations

from gdpr.migrations._triggers import sqlite_statements, trigger_operations

INSERT_ONLY = "AVV-Annahmen sind unveränderlich (nur Einfügen)"
FROZEN = "Veröffentlichte AVV-Versionen sind eingefroren"
TOMS_FROZEN = "Die TOMs einer veröffentlichten AVV-Version sind eingefroren"

_TOM_PUBLISHED = ("EXISTS (SELECT 1 FROM gdpr_avvversion WHERE status = 'published' "
                  "AND id IN ({ids}))")

SQLITE = [
    ("gdpr_avvacceptance_no_update", "BEFORE UPDATE ON gdpr_avvacceptance", "1", INSERT_ONLY),
    ("gdpr_avvacceptance_no_delete", "BEFORE DELETE ON gdpr_avvacceptance", "1", INSERT_ONLY),
    ("gdpr_avvversion_no_update", "BEFORE UPDATE ON gdpr_avvversion",
     "OLD.status = 'published'", FROZEN),
    ("gdpr_avvversion_no_delete", "BEFORE DELETE ON gdpr_avvversion",
     "OLD.status = 'published'", FROZEN),
    ("gdpr_tommeasure_no_insert", "BEFORE INSERT ON gdpr_tommeasure",
     _TOM_PUBLISHED.format(ids="NEW.version_id"), TOMS_FROZEN),
    ("gdpr_tommeasure_no_update", "BEFORE UPDATE ON gdpr_tommeasure",
     _TOM_PUBLISHED.format(ids="OLD.version_id, NEW.version_id"), TOMS_FROZEN),
    ("gdpr_tommeasure_no_delete", "BEFORE DELETE ON gdpr_tommeasure",
     _TOM_PUBLISHED.format(ids="OLD.version_id"), TOMS_FROZEN),
]

POSTGRES_FORWARD = f"""
CREATE FUNCTION gdpr_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END $$ LANGUAGE plpgsql;

CREATE FUNCTION gdpr_tommeasure_frozen() RETURNS trigger AS $$
BEGIN
    -- OLD is NULL on INSERT, NEW on DELETE (PostgreSQL 11+).
    IF {_TOM_PUBLISHED.format(ids="OLD.version_id, NEW.version_id")} THEN
        RAISE EXCEPTION '{TOMS_FROZEN}' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER gdpr_avvacceptance_insert_only BEFORE UPDATE OR DELETE ON gdpr_avvacceptance
    FOR EACH ROW EXECUTE FUNCTION gdpr_refuse('{INSERT_ONLY}');
CREATE TRIGGER gdpr_avvversion_frozen BEFORE UPDATE OR DELETE ON gdpr_avvversion
    FOR EACH ROW WHEN (OLD.status = 'published') EXECUTE FUNCTION gdpr_refuse('{FROZEN}');
CREATE TRIGGER gdpr_tommeasure_frozen BEFORE INSERT OR UPDATE OR DELETE ON gdpr_tommeasure
    FOR EACH ROW EXECUTE FUNCTION gdpr_tommeasure_frozen();
"""

POSTGRES_BACKWARD = """
DROP TRIGGER gdpr_avvacceptance_insert_only ON gdpr_avvacceptance;
DROP TRIGGER gdpr_avvversion_frozen ON gdpr_avvversion;
DROP TRIGGER gdpr_tommeasure_frozen ON gdpr_tommeasure;
DROP FUNCTION gdpr_refuse();
DROP FUNCTION gdpr_tommeasure_frozen();
"""


def sqlite_create_statements() -> list[str]:
    """The SQLite triggers (also used by the tests' flush, tests/conftest.py)."""
    return sqlite_statements(SQLITE)


forward, backward = trigger_operations(SQLITE, postgres_forward=POSTGRES_FORWARD,
                                       postgres_backward=POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("gdpr", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
