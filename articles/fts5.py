"""SQLite's full-text search (FTS5): the index and its triggers, web-search syntax, ranked, highlighted."""

import re

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models.expressions import RawSQL

TABLE = "articles_article_fts"
# Kept in step with articles_article by triggers. Django rebuilds a SQLite
# table for most schema changes (copy, drop, rename), and the drop takes the
# triggers with it: after every migrate, ensure_index() puts back what is
# missing and rebuilds the index from the articles.
CREATE_TABLE = f"""CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(
    title, summary, body_text,
    content='articles_article', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
)"""
TRIGGERS = {
    f"{TABLE}_insert": f"""CREATE TRIGGER {TABLE}_insert AFTER INSERT ON articles_article BEGIN
        INSERT INTO {TABLE}(rowid, title, summary, body_text)
        VALUES (new.id, new.title, new.summary, new.body_text);
    END""",
    f"{TABLE}_delete": f"""CREATE TRIGGER {TABLE}_delete AFTER DELETE ON articles_article BEGIN
        INSERT INTO {TABLE}({TABLE}, rowid, title, summary, body_text)
        VALUES ('delete', old.id, old.title, old.summary, old.body_text);
    END""",
    # Only the indexed columns: a state or counter update leaves the index alone.
    f"{TABLE}_update": f"""CREATE TRIGGER {TABLE}_update
        AFTER UPDATE OF title, summary, body_text ON articles_article BEGIN
        INSERT INTO {TABLE}({TABLE}, rowid, title, summary, body_text)
        VALUES ('delete', old.id, old.title, old.summary, old.body_text);
        INSERT INTO {TABLE}(rowid, title, summary, body_text)
        VALUES (new.id, new.title, new.summary, new.body_text);
    END""",
}
# bm25 weights of title, summary and text: PostgreSQL's A, B and C.
WEIGHTS = "10.0, 4.0, 1.0"
SNIPPET_TOKENS = 32
# A quoted phrase (perhaps unclosed, perhaps negated) or a bare word.
TERM = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def fts5_query(text):
    """PostgreSQL's websearch syntax ("a phrase", -word, OR) in FTS5's, or None
    when nothing is left to look for.

    Every term is quoted, so no character of the reader's reaches FTS5's own
    syntax; FTS5's NOT needs something on its left, so exclusions come last.
    """
    groups, excluded = [], []
    either = False
    for match in TERM.finditer(text):
        negated, phrase, word = match.groups()
        if word is not None:
            if word == "OR":
                either = bool(groups)
                continue
            negated, phrase = ("-", word[1:]) if word.startswith("-") else ("", word)
        if not any(ch.isalnum() for ch in phrase):
            continue
        term = '"' + phrase.replace('"', '""') + '"'
        if negated:
            excluded.append(term)
        elif either:
            groups[-1].append(term)
        else:
            groups.append([term])
        either = False
    if not groups:
        return None
    query = " AND ".join("(" + " OR ".join(group) + ")" for group in groups)
    return query + "".join(f" NOT {term}" for term in excluded)


def ensure_index(connection):
    """Creates the index and its triggers where missing (SQLite only); returns
    the names of the triggers it had to put back."""
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'articles_article'")
        if cursor.fetchone() is None:
            return []  # migrations before the articles table
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
        missing = [name for name in TRIGGERS if name not in present]
        if missing:
            cursor.execute(CREATE_TABLE)
            for name in missing:
                cursor.execute(TRIGGERS[name])
            # Writes made while a trigger was missing are not in the index.
            cursor.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')")
    return missing


def restore_index_after_migrate(sender, using, **kwargs):
    from django.db import connections

    ensure_index(connections[using])


def matching_ids(query):
    """A subquery of the matching articles' ids, for filter(pk__in=...)."""
    return RawSQL(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s", (query,))


def ranked(newest, query):
    """(id, time) of each of `newest` (columns match_id, match_published_at), best match first."""
    try:
        sql, params = newest.query.sql_with_params()
    except EmptyResultSet:  # a queryset that can match nothing (none())
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT n.match_id, n.match_published_at FROM ({sql}) AS n"
            f" JOIN {TABLE} ON {TABLE}.rowid = n.match_id"
            f" WHERE {TABLE} MATCH %s ORDER BY bm25({TABLE}, {WEIGHTS}),"
            " n.match_published_at DESC, n.match_id DESC",
            (*params, query),
        )
        return cursor.fetchall()


def snippets(ids, query, start, stop):
    """{id: a passage with the hits between start and stop}: of the summary when
    it has a hit, else of the text. FTS5 marks whole tokens, never part of a word."""
    if not ids:
        return {}
    marks = f"%s, %s, '…', {SNIPPET_TOKENS}"
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, snippet({TABLE}, 1, {marks}), snippet({TABLE}, 2, {marks})"
            f" FROM {TABLE} WHERE {TABLE} MATCH %s AND rowid IN ({placeholders})",
            (start, stop, start, stop, query, *ids),
        )
        return {
            pk: summary if start in summary else (text if start in text else summary)
            for pk, summary, text in cursor.fetchall()
        }

