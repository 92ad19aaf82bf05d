from django.db import migrations

from ._only_on import only_on

# A search scans the index once for each month it reads (articles/search.py).
# Over the GIN index of (month, vector), every such scan decoded the month's
# whole posting list (about 42,000 entries a month at 1,000,000 articles) to
# intersect it with the query's words: 0.68-0.90 ms a month, against
# 0.22-0.25 for the same month's matches from an index without the month key
# (bench/NOTES-pages.md). This index keys each lexeme by its month instead
# ("harbour#24311"), so a month's scan reads that month's postings of the
# query's words only. It holds no positions: a phrase is looked up as its
# words, a negation not at all (querytree), and the search checks the exact
# query on the rows found. A query with nothing to look up (only negations)
# reads the month's marker, "#24311", which every row of the month has.
FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION articles_month_lexemes(v tsvector, m integer) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- Joined with the suffix and split again, the empty string appended
    -- becoming the marker: 1.6 times faster than a subquery over the lexemes.
    -- The parser never puts a control character in a lexeme.
    SELECT array_to_tsvector(string_to_array(
        array_to_string(tsvector_to_array(v) || ''::text, '#' || m || E'\x1f') || '#' || m,
        E'\x1f'
    ))
$$;
CREATE OR REPLACE FUNCTION articles_month_query(q tsquery, m integer) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN numnode(q) = 0 THEN q
        WHEN querytree(q) = 'T' THEN ('''#' || m || '''')::tsquery
        ELSE regexp_replace(
            regexp_replace(querytree(q), '<(\d+|-)>', '&', 'g'),
            '''((?:[^''\\]|''''|\\.)*)''', '''\1#' || m || '''', 'g'
        )::tsquery
    END
$$;
"""
# Built and dropped concurrently: at 1,000,000 articles the build takes
# minutes, which would otherwise hold every new article's search entry.
# A build that failed leaves an invalid index, dropped before the next try.
DROP_INVALID = """
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.relname = 'searchentry_month_lexemes' AND NOT i.indisvalid) THEN
        DROP INDEX searchentry_month_lexemes;
    END IF;
END $$;
"""
FORWARD = [
    FUNCTIONS,
    DROP_INVALID,
    "SET maintenance_work_mem = '256MB'",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS searchentry_month_lexemes ON articles_searchentry"
    " USING gin (articles_month_lexemes(vector, month)) WITH (fastupdate = off)",
    "RESET maintenance_work_mem",
    "DROP INDEX CONCURRENTLY IF EXISTS searchentry_month_vector",
    "ANALYZE articles_searchentry",
]
BACKWARD = [
    "SET maintenance_work_mem = '256MB'",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS searchentry_month_vector ON articles_searchentry"
    " USING gin (month, vector) WITH (fastupdate = off)",
    "RESET maintenance_work_mem",
    "DROP INDEX CONCURRENTLY IF EXISTS searchentry_month_lexemes",
    "DROP FUNCTION articles_month_query(tsquery, integer)",
    "DROP FUNCTION articles_month_lexemes(tsvector, integer)",
]


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("articles", "0028_searchentry_vectors_in_line"),
    ]

    operations = [only_on("postgresql", FORWARD, BACKWARD)]
