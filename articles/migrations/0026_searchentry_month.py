import importlib

from django.contrib.postgres.operations import BtreeGinExtension
from django.db import migrations, models

# A search reads the newest matches month by month (articles/search.py): one
# GIN index over (month, vector) gives a month's matches without visiting
# the older ones, so a search's cost no longer grows with all the matches
# in the archive. It replaces the GIN index over the vector alone, which
# the new one also answers.
MONTH_FUNCTION = """
CREATE OR REPLACE FUNCTION articles_month(moment timestamptz) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (extract(year FROM moment AT TIME ZONE 'UTC') * 12
            + extract(month FROM moment AT TIME ZONE 'UTC') - 1)::integer
$$;
"""
# 0025's function, the month written beside the date.
MONTH_SYNC_FUNCTION = """
CREATE OR REPLACE FUNCTION articles_search_entry_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'ready' AND NOT NEW.is_hidden AND NEW.copy_of_id IS NULL THEN
        IF TG_OP = 'UPDATE' AND OLD.state = 'ready' AND NOT OLD.is_hidden
                AND OLD.copy_of_id IS NULL AND NEW.title = OLD.title
                AND NEW.summary = OLD.summary AND NEW.body_text = OLD.body_text THEN
            IF NEW.published_at <> OLD.published_at OR NEW.source_id <> OLD.source_id THEN
                UPDATE articles_searchentry
                SET published_at = NEW.published_at, month = articles_month(NEW.published_at),
                    source_id = NEW.source_id
                WHERE article_id = NEW.id;
            END IF;
            RETURN NULL;
        END IF;
        INSERT INTO articles_searchentry (article_id, source_id, published_at, month, vector)
        VALUES (NEW.id, NEW.source_id, NEW.published_at, articles_month(NEW.published_at),
                setweight(to_tsvector('english', NEW.title), 'A')
                || setweight(to_tsvector('english', NEW.summary), 'B')
                || setweight(to_tsvector('english', NEW.body_text), 'C'))
        ON CONFLICT (article_id) DO UPDATE SET source_id = excluded.source_id,
            published_at = excluded.published_at, month = excluded.month,
            vector = excluded.vector;
    ELSIF TG_OP = 'UPDATE' THEN
        DELETE FROM articles_searchentry WHERE article_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
"""


def add_month(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        # SQLite searches its own way: the table stays empty there.
        schema_editor.execute(
            "ALTER TABLE articles_searchentry ADD COLUMN month integer NOT NULL DEFAULT 0"
        )
        return
    schema_editor.execute(
        MONTH_FUNCTION
        + MONTH_SYNC_FUNCTION
        # The old index goes first: kept, it would take every updated row's
        # vector again, one GIN insertion each.
        + "DROP INDEX searchentry_vector;"
        "ALTER TABLE articles_searchentry ADD COLUMN month integer;"
        "UPDATE articles_searchentry SET month = articles_month(published_at);"
        "ALTER TABLE articles_searchentry ALTER COLUMN month SET NOT NULL;"
        "SET LOCAL maintenance_work_mem = '256MB';"
        "CREATE INDEX searchentry_month_vector ON articles_searchentry"
        " USING gin (month, vector);"
        "ANALYZE articles_searchentry;"
    )


def drop_month(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute("ALTER TABLE articles_searchentry DROP COLUMN month")
        return
    schema_editor.execute(
        importlib.import_module("articles.migrations.0025_search_entry")
        .SYNC_FUNCTION.split("CREATE TRIGGER")[0]
        + "CREATE INDEX searchentry_vector ON articles_searchentry USING gin (vector);"
        "DROP INDEX searchentry_month_vector;"
        "ALTER TABLE articles_searchentry DROP COLUMN month;"
        "DROP FUNCTION articles_month(timestamptz);"
    )


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0025_search_entry'),
    ]

    operations = [
        BtreeGinExtension(),  # PostgreSQL only; a trusted extension since PostgreSQL 13
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name='searchentry',
                    name='month',
                    field=models.IntegerField(),
                    preserve_default=False,
                ),
            ],
            database_operations=[migrations.RunPython(add_month, drop_month)],
        ),
    ]
