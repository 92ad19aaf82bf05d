from django.db import migrations

# SQLite's own full-text engine over the article's title, summary and text.
# An external-content table: the text is stored once, in articles_article, and
# triggers keep the index in step with every write, whoever makes it.
CREATE = [
    """CREATE VIRTUAL TABLE articles_article_fts USING fts5(
        title, summary, body_text,
        content='articles_article', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER articles_article_fts_insert AFTER INSERT ON articles_article BEGIN
        INSERT INTO articles_article_fts(rowid, title, summary, body_text)
        VALUES (new.id, new.title, new.summary, new.body_text);
    END""",
    """CREATE TRIGGER articles_article_fts_delete AFTER DELETE ON articles_article BEGIN
        INSERT INTO articles_article_fts(articles_article_fts, rowid, title, summary, body_text)
        VALUES ('delete', old.id, old.title, old.summary, old.body_text);
    END""",
    # Only the indexed columns: a state or counter update leaves the index alone.
    """CREATE TRIGGER articles_article_fts_update
        AFTER UPDATE OF title, summary, body_text ON articles_article BEGIN
        INSERT INTO articles_article_fts(articles_article_fts, rowid, title, summary, body_text)
        VALUES ('delete', old.id, old.title, old.summary, old.body_text);
        INSERT INTO articles_article_fts(rowid, title, summary, body_text)
        VALUES (new.id, new.title, new.summary, new.body_text);
    END""",
    "INSERT INTO articles_article_fts(articles_article_fts) VALUES ('rebuild')",
]
DROP = [
    "DROP TRIGGER IF EXISTS articles_article_fts_update",
    "DROP TRIGGER IF EXISTS articles_article_fts_delete",
    "DROP TRIGGER IF EXISTS articles_article_fts_insert",
    "DROP TABLE IF EXISTS articles_article_fts",
]


def run_on_sqlite(statements):
    def run(apps, schema_editor):
        # PostgreSQL searches its stored tsvector (0004); this is SQLite's.
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0018_article_retry_at"),
    ]

    operations = [migrations.RunPython(run_on_sqlite(CREATE), run_on_sqlite(DROP))]
