"""The inverted index relating searches: document frequencies, postings, candidates.

All of relating's dialect-specific SQL is here, PostgreSQL's and SQLite's
side by side; the rest of the package speaks through these functions.
"""

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.db.models.expressions import RawSQL

from ..models import Article, ArticleTerm, DocumentFrequency, RelatedLink
from .deadlocks import retrying_deadlocks
from .vectors import cosine

WINDOW = timedelta(days=7)
INDEX_TERMS = 30
QUERY_TERMS = 40
# The index overlap ranks well: the best hundred get exact scores
# (bench/NOTES-related.md has the comparison with three hundred).
MAX_CANDIDATES = 100
# A term's newest postings in the window that count towards the overlap: a
# word in thousands of articles a week adds little to it and would make each
# article's candidate search grow with the archive.
POSTINGS_PER_TERM = 1000
ALL_DOCUMENTS = ""  # the DocumentFrequency row that counts indexed articles
FREQUENCY_CHUNK = 2000
MAX_TERM_LENGTH = 100  # ArticleTerm.term and DocumentFrequency.term


@dataclass
class Candidate:
    pk: int
    source_id: int
    published_at: datetime
    story_id: int | None
    similarity: float
    terms: dict
    score: float = 0.0


def document_frequencies(words):
    """({word: documents}, documents in all) as stored, without counting anything."""
    terms = [*words, ALL_DOCUMENTS]
    if connection.vendor == "postgresql":
        # Each term an index probe, whatever the statistics say: as an IN list
        # a table not analysed yet was read whole, and as a join PostgreSQL's
        # costs chose a hash join that read it whole for a few hundred terms.
        # LIMIT 1 keeps the subquery a subquery, probed per term.
        table = DocumentFrequency._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT q.term, d.documents FROM unnest(%s::text[]) AS q (term)"
                f" CROSS JOIN LATERAL (SELECT documents FROM {table}"
                f" WHERE term = q.term LIMIT 1) d",
                [terms],
            )
            frequencies = dict(cursor.fetchall())
    else:
        rows = DocumentFrequency.objects.filter(term__in=terms)
        frequencies = dict(rows.values_list("term", "documents"))
    return frequencies, frequencies.pop(ALL_DOCUMENTS, 0)


def count_and_read(words):
    """Count one more document for each word, and read the frequencies as they were.

    One statement instead of a read now and a write once the article is
    indexed: the upsert returns each count with this article in it, and its
    own one is taken off again.
    """
    counts = add_to_frequencies(dict.fromkeys([*words, ALL_DOCUMENTS], 1))
    frequencies = {term: documents - 1 for term, documents in counts.items()}
    return frequencies, frequencies.pop(ALL_DOCUMENTS, 0)


@retrying_deadlocks
def add_to_frequencies(totals):
    """Add {word: documents} to the stored frequencies; returns them as they now are."""
    table = DocumentFrequency._meta.db_table
    # Sorted, so concurrent workers lock rows in the same order.
    items = sorted((word, n) for word, n in totals.items() if len(word) <= MAX_TERM_LENGTH)
    upsert = (
        f" ON CONFLICT (term) DO UPDATE SET documents = {table}.documents + excluded.documents"
        " RETURNING term, documents"
    )
    counts = {}
    # Several statements commit together, so a retried deadlock counts nothing twice.
    chunks = transaction.atomic() if len(items) > FREQUENCY_CHUNK else contextlib.nullcontext()
    with chunks, connection.cursor() as cursor:
        for start in range(0, len(items), FREQUENCY_CHUNK):
            chunk = items[start : start + FREQUENCY_CHUNK]
            rows, params = pairs_sql(chunk, ("term", "text"), ("documents", "integer"))
            cursor.execute(f"INSERT INTO {table} (term, documents) {rows}{upsert}", params)
            counts.update(cursor.fetchall())
    return counts


def pairs_sql(pairs, first, second):
    """A SELECT of rows (first, second), in order; each is (column name, PostgreSQL type).

    Two array parameters on PostgreSQL, whatever the number of rows: the
    statement's text stays the same, so psycopg reuses its parsed form, and
    the values are not quoted one by one in Python.
    """
    (first_name, first_type), (second_name, second_type) = first, second
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT * FROM unnest(%s::{first_type}[], %s::{second_type}[])"
            f" AS pairs ({first_name}, {second_name})"
        )
        return sql, [[pair[0] for pair in pairs], [pair[1] for pair in pairs]]
    # WHERE true: SQLite's rule for an INSERT ... SELECT ... ON CONFLICT.
    sql = (
        f"SELECT column1 AS {first_name}, column2 AS {second_name} FROM (VALUES "
        + ", ".join(["(%s, %s)"] * len(pairs))
        + ") WHERE true"
    )
    return sql, [value for pair in pairs for value in pair]


def uncount(words):
    """Take back count_and_read's count: the article turned out to be a copy.

    Rows are locked in the upsert's order (code points, as Python sorts): a
    plain UPDATE ... WHERE term IN locks them in scan order, and against
    another worker's upsert that deadlocked.
    """
    terms = sorted({word for word in words if len(word) <= MAX_TERM_LENGTH} | {ALL_DOCUMENTS})
    if not connection.features.has_select_for_update:  # SQLite: one writer at a time
        DocumentFrequency.objects.filter(term__in=terms).update(documents=F("documents") - 1)
        return
    table = DocumentFrequency._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET documents = {table}.documents - 1 FROM"
            f" (SELECT d.term FROM unnest(%s::text[]) AS q (term) JOIN {table} d"
            f" ON d.term = q.term ORDER BY d.term COLLATE \"C\" FOR UPDATE OF d) locked"
            f" WHERE {table}.term = locked.term",
            [terms],
        )


def index_rows(article_id, published_at, vector):
    """The article's postings: its INDEX_TERMS strongest terms."""
    strongest = sorted(vector.items(), key=lambda item: -item[1])[:INDEX_TERMS]
    return [
        ArticleTerm(article_id=article_id, term=term, weight=weight, published_at=published_at)
        for term, weight in strongest
        if len(term) <= MAX_TERM_LENGTH
    ]


def index_article(article, vector):
    """Make the article findable by later articles."""
    ArticleTerm.objects.bulk_create(index_rows(article.pk, article.published_at, vector))


def unindex_copy(article):
    """A copy is shown once, through its original: never a candidate or a link."""
    ArticleTerm.objects.filter(article=article).delete()
    RelatedLink.objects.filter(to_article=article).delete()


def find_candidates(article, vector):
    """Articles sharing the strongest terms within WINDOW, with their exact cosine."""
    query = sorted(vector.items(), key=lambda item: -item[1])[:QUERY_TERMS]
    if not query:
        return []
    rows = (
        Article.objects.visible()
        .filter(pk__in=RawSQL(*rough_candidates_sql(article, query)), copy_of__isnull=True)
        .exclude(url_hash=article.url_hash)
        .order_by()
        .values_list("pk", "source_id", "published_at", "story_id", "terms")
    )
    candidates = [
        Candidate(pk, source_id, published_at, story_id, cosine(vector, terms or {}), terms or {})
        for pk, source_id, published_at, story_id, terms in rows
    ]
    return sorted(candidates, key=lambda candidate: (-candidate.similarity, candidate.pk))


def rough_candidates_sql(article, query):
    """The ids of the MAX_CANDIDATES articles with the largest index overlap, summed in SQL.

    A subquery of find_candidates' one statement: the database adds up the
    postings, so the cost per article does not include moving every posting
    of common terms to Python.
    """
    table = ArticleTerm._meta.db_table
    weights, params = pairs_sql(query, ("term", "text"), ("w", "float8"))
    adapt = connection.ops.adapt_datetimefield_value  # raw SQL: the ORM's own format
    window = [adapt(article.published_at - WINDOW), adapt(article.published_at + WINDOW)]
    if connection.vendor == "postgresql":
        # Each term's postings by its own index range scan, newest first and at
        # most POSTINGS_PER_TERM: as a join, PostgreSQL's costs chose to read
        # the whole table and hash it whenever the window held most of it,
        # and a word common in a large archive would make the read grow with
        # the archive. The LIMIT also keeps the subquery a subquery, probed
        # per term.
        sql = (
            f"SELECT p.article_id FROM ({weights}) q CROSS JOIN LATERAL"
            f" (SELECT t.article_id, t.weight FROM {table} t WHERE t.term = q.term"
            " AND t.published_at >= %s AND t.published_at <= %s"
            " ORDER BY t.published_at DESC LIMIT %s) p"
            " WHERE p.article_id <> %s"
            " GROUP BY p.article_id ORDER BY SUM(p.weight * q.w) DESC, p.article_id"
            " LIMIT %s"
        )
        return sql, params + window + [POSTINGS_PER_TERM, article.pk, MAX_CANDIDATES]
    sql = (
        f"SELECT t.article_id FROM {table} t JOIN ({weights}) q ON t.term = q.term"
        " WHERE t.published_at >= %s AND t.published_at <= %s AND t.article_id <> %s"
        " GROUP BY t.article_id ORDER BY SUM(t.weight * q.w) DESC, t.article_id"
        " LIMIT %s"
    )
    return sql, params + window + [article.pk, MAX_CANDIDATES]


def rows_sql(rows, columns):
    """A SELECT of `rows` (tuples), each column (name, PostgreSQL type): pairs_sql for any width."""
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{kind}[]" for _, kind in columns)
        names = ", ".join(name for name, _ in columns)
        params = [[row[n] for row in rows] for n in range(len(columns))]
        return f"SELECT * FROM unnest({arrays}) AS q ({names})", params
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    names = ", ".join(f"column{n + 1} AS {name}" for n, (name, _) in enumerate(columns))
    sql = f"SELECT {names} FROM (VALUES " + ", ".join([placeholders] * len(rows)) + ")"
    return sql, [value for row in rows for value in row]


def query_terms(vector):
    return sorted(vector.items(), key=lambda item: -item[1])[:QUERY_TERMS]


def rough_candidates_of_batch(queries):
    """{article id: [(overlap, id)] of its MAX_CANDIDATES best index overlaps}, all at once.

    `queries` is [(article, vector)]: rough_candidates_sql's search for each,
    in one statement, each article with its own terms and time window.
    """
    adapt = connection.ops.adapt_datetimefield_value
    rows = []
    for article, vector in queries:
        low, high = adapt(article.published_at - WINDOW), adapt(article.published_at + WINDOW)
        rows.extend((article.pk, term, weight, low, high) for term, weight in query_terms(vector))
    found = {article.pk: [] for article, _ in queries}
    if not rows:
        return found
    terms, params = rows_sql(
        rows,
        [("query_id", "integer"), ("term", "text"), ("w", "float8"),
         ("low", "timestamptz"), ("high", "timestamptz")],
    )
    table = ArticleTerm._meta.db_table
    if connection.vendor == "postgresql":
        # As in rough_candidates_sql: each term's newest postings by its own index range.
        postings = (
            f"({terms}) q CROSS JOIN LATERAL (SELECT t.article_id, t.weight FROM {table} t"
            " WHERE t.term = q.term AND t.published_at >= q.low AND t.published_at <= q.high"
            " ORDER BY t.published_at DESC LIMIT %s) p"
        )
        params.append(POSTINGS_PER_TERM)
    else:
        postings = (
            f"({terms}) q JOIN (SELECT article_id, weight, term, published_at FROM {table}) p"
            " ON p.term = q.term AND p.published_at >= q.low AND p.published_at <= q.high"
        )
    sql = (
        "SELECT query_id, article_id, overlap FROM (SELECT q.query_id AS query_id,"
        " p.article_id AS article_id, SUM(p.weight * q.w) AS overlap,"
        " ROW_NUMBER() OVER (PARTITION BY q.query_id"
        " ORDER BY SUM(p.weight * q.w) DESC, p.article_id) AS position"
        f" FROM {postings} WHERE p.article_id <> q.query_id"
        " GROUP BY q.query_id, p.article_id) ranked WHERE position <= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params + [MAX_CANDIDATES])
        for query_id, article_id, overlap in cursor.fetchall():
            found[query_id].append((overlap, article_id))
    return found
