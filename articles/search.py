"""Full-text search: PostgreSQL's ranked websearch on a stored vector, SQLite's FTS5
(articles/fts5.py), LIKE elsewhere."""

import functools
import re
from datetime import timedelta

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Q, Value
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from . import fts5
from .models import Article

CONFIG = "english"
MAX_QUERY_LENGTH = 200
MAX_RANKED = 2000
# Control characters mark the hits: no text contains them, and the snippet is
# escaped before they become <mark> tags.
START, STOP = "\x02", "\x03"
PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=31)}


def uses_postgres():
    return connection.vendor == "postgresql"


def weighted_vector(title, summary, body_text):
    return (
        SearchVector(title, weight="A", config=CONFIG)
        + SearchVector(summary, weight="B", config=CONFIG)
        + SearchVector(body_text, weight="C", config=CONFIG)
    )


def search_vector_of(article):
    """The vector of the article's text as it is about to be saved, or None off PostgreSQL.

    Built from the values, not the columns: in an UPDATE the columns still
    hold the old text, and a second UPDATE would write the row twice.
    """
    if not uses_postgres():
        return None
    return weighted_vector(Value(article.title), Value(article.summary), Value(article.body_text))


def filtered(queryset, source=None, category=None, period=None):
    if source:
        queryset = queryset.filter(source__slug=source)
    if category:
        queryset = queryset.filter(source__category__slug=category)
    if period in PERIODS:
        queryset = queryset.filter(published_at__gte=timezone.now() - PERIODS[period])
    return queryset


def search_articles(text, source=None, category=None, period=None):
    """Ranked matches, each with a highlighted `snippet`, or None for an unusable query.

    On PostgreSQL a RankedSearch (count and slices, for a Paginator); elsewhere
    a Fts5Search on SQLite; elsewhere a queryset of LIKE matches, newest first.
    """
    text = " ".join((text or "").split())[:MAX_QUERY_LENGTH]
    if not any(ch.isalnum() for ch in text):
        return None
    articles = filtered(Article.objects.for_list().originals(), source, category, period)
    if uses_postgres():
        return RankedSearch(articles, SearchQuery(text, search_type="websearch", config=CONFIG))
    if connection.vendor == "sqlite":
        query = fts5.fts5_query(text)
        return None if query is None else Fts5Search(articles, query)
    matches = Q()
    for word in text.split()[:8]:
        word = word.strip('"+-')
        if word:
            matches &= Q(title__icontains=word) | Q(summary__icontains=word)
    return articles.filter(matches).order_by("-published_at")


class RankedSearch:
    """The newest MAX_RANKED matches in rank order, found and ranked in one scan.

    A common word can match most of the archive, and ranking it all would make
    the cost grow with the archive: only the newest matches are ranked, in the
    same pass that finds them, and only their ids leave the database. The
    page's own rows (and their snippets) are read by id. Counting and listing
    the matches as two querysets would scan them twice and join all of them
    back to their full rows (bench/NOTES-pages.md has the figures).
    """

    model = Article  # ListView names the context's list after it

    def __init__(self, articles, query):
        self.articles, self.query = articles, query

    @functools.cached_property
    def ids(self):
        newest = (
            self.articles.filter(search_vector=self.query)
            .annotate(rank=SearchRank(F("search_vector"), self.query))
            .order_by("-published_at", "-pk")
            .values_list("pk", "rank", "published_at")[:MAX_RANKED]
        )
        sql, params = newest.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                # Named here, whatever Django calls them; only the ids come back:
                # decoding thousands of dates in Python is a cost of its own.
                f"SELECT n.id FROM ({sql}) AS n (id, rank, published_at)"
                " ORDER BY n.rank DESC, n.published_at DESC, n.id DESC",
                params,
            )
            return [row[0] for row in cursor.fetchall()]

    def count(self):
        return len(self.ids)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        ids = self.ids[index]
        rows = Article.objects.for_list().filter(pk__in=ids).annotate(
            snippet=SearchHeadline(
                "summary", self.query, config=CONFIG, start_sel=START, stop_sel=STOP,
                max_words=40, min_words=15, highlight_all=True,
            )
        )
        by_id = {article.pk: article for article in rows}
        # A row hidden since the ids were read is left out, not an error.
        return [by_id[pk] for pk in ids if pk in by_id]


class Fts5Search(RankedSearch):
    """RankedSearch on SQLite's FTS5 index: the same newest MAX_RANKED, ranked by bm25."""

    @functools.cached_property
    def ids(self):
        newest = (
            self.articles.filter(pk__in=fts5.matching_ids(self.query))
            .order_by("-published_at", "-pk")
            # Named, for the ranking query that wraps this one.
            .annotate(match_id=F("pk"), match_published_at=F("published_at"))
            .values_list("match_id", "match_published_at")[:MAX_RANKED]
        )
        return fts5.rank_ids(newest, self.query)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        ids = self.ids[index]
        by_id = Article.objects.for_list().in_bulk(ids)
        snippets = fts5.snippets(list(by_id), self.query, START, STOP)
        for pk, article in by_id.items():
            article.snippet = snippets.get(pk, article.summary)
        return [by_id[pk] for pk in ids if pk in by_id]


def highlighted(snippet):
    """Escaped snippet with the hits as <mark>."""
    html = escape(snippet).replace(START, "<mark>").replace(STOP, "</mark>")
    return mark_safe(html)


def mark_words(text, query, limit=300):
    """The LIKE fallback's snippet: the words holding the query's words marked
    whole in the summary (LIKE matches inside words: "rail" finds "Railway")."""
    words = [re.escape(w.strip('"+-')) for w in query.split() if w.strip('"+-')]
    text = text[:limit]
    if words:
        pattern = r"\w*(?:" + "|".join(words) + r")\w*"
        text = re.sub(pattern, lambda m: START + m.group(0) + STOP, text, flags=re.I)
    return highlighted(text)
