"""SQLite's full-text search (FTS5, migration 0019): web-search syntax, ranked, highlighted."""

import re

from django.db import connection
from django.db.models.expressions import RawSQL

TABLE = "articles_article_fts"
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


def matching_ids(query):
    """A subquery of the matching articles' ids, for filter(pk__in=...)."""
    return RawSQL(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s", (query,))


def rank_ids(newest, query):
    """The ids of `newest` (columns match_id, match_published_at), best match first."""
    sql, params = newest.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT n.match_id FROM ({sql}) AS n JOIN {TABLE} ON {TABLE}.rowid = n.match_id"
            f" WHERE {TABLE} MATCH %s ORDER BY bm25({TABLE}, {WEIGHTS}),"
            " n.match_published_at DESC, n.match_id DESC",
            (*params, query),
        )
        return [row[0] for row in cursor.fetchall()]


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

