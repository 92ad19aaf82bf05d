"""Full-text search: PostgreSQL's ranked websearch on a narrow table of vectors, SQLite's
FTS5 (articles/fts5.py), LIKE elsewhere."""

import functools
import re
from datetime import timedelta

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from . import fts5, rows
from .models import Article

CONFIG = "english"
MAX_QUERY_LENGTH = 200
# The newest matches ranked (25 pages of 20): each costs a read of its
# vector, and 2,000 cost 45 ms more than 500 at 1,000,000 articles.
MAX_RANKED = 500
# Control characters mark the hits: no text contains them, and the snippet is
# escaped before they become <mark> tags.
START, STOP = "\x02", "\x03"
# A result's columns: its link, headline, time, and what its display policy reads.
RESULT_COLUMNS = ("id", "slug", "title", "published_at", "page_terms", "source")
RESULT_SOURCE_COLUMNS = ("id", "name", "slug", "display_policy")
HEADLINE_OPTIONS = f"StartSel='{START}', StopSel='{STOP}', MaxWords=40, MinWords=15, HighlightAll=true"
PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=31)}


def uses_postgres():
    return connection.vendor == "postgresql"


def since(period):
    return timezone.now() - PERIODS[period] if period in PERIODS else None


def filtered(queryset, source=None, category=None, period=None):
    if source:
        queryset = queryset.filter(source__slug=source)
    if category:
        queryset = queryset.filter(source__category__slug=category)
    if period in PERIODS:
        queryset = queryset.filter(published_at__gte=since(period))
    return queryset


def search_articles(text, source=None, category=None, period=None, before=None):
    """Ranked matches, each with a highlighted `snippet`, or None for an unusable query.

    On PostgreSQL a RankedSearch (count and slices, for a Paginator); elsewhere
    a Fts5Search on SQLite; elsewhere a queryset of LIKE matches, newest first.
    `before`: an article's id; only matches older than it (the ranked
    searches' `older` for the next ones).
    """
    text = " ".join((text or "").split())[:MAX_QUERY_LENGTH]
    if not any(ch.isalnum() for ch in text):
        return None
    if uses_postgres():
        return RankedSearch(text, source, category, since(period), before)
    articles = filtered(Article.objects.for_list().originals(), source, category, period)
    if before is not None:
        articles = older_than(articles, before)
    if connection.vendor == "sqlite":
        query = fts5.fts5_query(text)
        return None if query is None else Fts5Search(articles, query)
    matches = Q()
    for word in text.split()[:8]:
        word = word.strip('"+-')
        if word:
            matches &= Q(title__icontains=word) | Q(summary__icontains=word)
    return articles.filter(matches).order_by("-published_at")


def older_than(articles, pk):
    """`articles` published before the article `pk` (ties broken by id); none if it is gone."""
    published = Article.objects.filter(pk=pk).values_list("published_at", flat=True).first()
    if published is None:
        return articles.none()
    return articles.filter(Q(published_at__lt=published) | Q(published_at=published, pk__lt=pk))


def oldest(matches):
    """The id of the oldest of `matches` ((id, time) pairs), or None."""
    return min(matches, key=lambda match: (match[1], match[0]))[0] if matches else None


class RankedSearch:
    """The newest MAX_RANKED matches in rank order, found and ranked in one statement.

    A common word can match much of the archive, and ranking it all would
    make the cost grow with the archive: only the newest matches are ranked.
    They are found in the narrow SearchEntry table month by month, newest
    first, until there are enough (a GIN index of each row's lexemes keyed
    by its month, migration 0029): a word common in the whole archive costs
    what its last months' matches cost.
    Their vectors are in the rows just visited (migration 0028), and the
    ranking is outside the LIMIT so that PostgreSQL cannot compute it for
    every match. Only ids leave the database, and the page's own rows (and
    their snippets) are read by id (bench/NOTES-pages.md has the figures).
    """

    model = Article  # ListView names the context's list after it

    def __init__(self, text, source=None, category=None, since=None, before=None):
        self.text, self.source, self.category, self.since = text, source, category, since
        self.before = before

    @functools.cached_property
    def ids(self):
        return [pk for pk, _time in self._ranked]

    @property
    def older(self):
        """When the ranking stopped at MAX_RANKED, the oldest ranked match's id:
        the next search goes on `before` it. None when every match was ranked."""
        return oldest(self._ranked) if self.capped else None

    @functools.cached_property
    def _ranked(self):
        """(id, time) of each ranked match, best first."""
        # Written as SQL: the ORM took 0.33 ms to compile it for every search.
        where, params = [], []
        if self.source:
            where.append("e.source_id = (SELECT id FROM articles_source WHERE slug = %s)")
            params.append(self.source)
        if self.category:
            where.append(
                "e.source_id IN (SELECT s.id FROM articles_source s"
                " JOIN articles_category c ON c.id = s.category_id WHERE c.slug = %s)"
            )
            params.append(self.category)
        if self.since:
            where.append("e.published_at >= %s")
            params.append(self.since)
        newest = "(SELECT articles_month(max(published_at)) FROM articles_article)"
        if self.before is not None:
            # Its month first: a month's lookup costs the same with no match in it.
            newest = "(SELECT month FROM articles_searchentry WHERE article_id = %s)"
            where.append(
                "(e.published_at, e.article_id) <"
                " (SELECT published_at, article_id FROM articles_searchentry WHERE article_id = %s)"
            )
            params.append(self.before)
        with connection.cursor() as cursor:
            cursor.execute(
                # Month by month, newest first, until MAX_RANKED: the LIMIT
                # stops the nested loop over the months, so a common word
                # reads its last months only. The bounds are the archive's
                # newest and oldest dates (two reads of the date index). In a
                # month, the GIN index of lexemes keyed by their month
                # (migration 0029) finds the rows holding the query's words
                # in that month, and the exact query (phrases, negations)
                # is checked on them. Only the ids come back, with their
                # times as whole microseconds (the oldest is where older
                # matches start): decoding hundreds of dates, or of
                # extract()'s numerics, in Python is a cost of its own.
                "SELECT n.id, (extract(epoch FROM n.published_at) * 1000000)::bigint"
                " FROM (SELECT e.id, e.published_at, e.vector, q.query FROM"
                " websearch_to_tsquery(%s::regconfig, %s) AS q (query), generate_series("
                f" {newest},"
                " greatest((SELECT articles_month(min(published_at)) FROM articles_article),"
                " articles_month(%s)), -1) AS m (month)"
                " CROSS JOIN LATERAL (SELECT e.article_id, e.published_at, e.vector"
                # The month's own check first: on a table small enough to be
                # read whole, it spares the other months' rows their lexemes.
                " FROM articles_searchentry e WHERE e.month = m.month"
                " AND articles_month_lexemes(e.vector, e.month) @@ articles_month_query(q.query, m.month)"
                " AND e.vector @@ q.query"
                + "".join(f" AND {clause}" for clause in where)
                + " ORDER BY e.published_at DESC, e.article_id DESC LIMIT %s) AS e (id, published_at, vector)"
                " LIMIT %s) AS n"
                " ORDER BY ts_rank(n.vector, n.query) DESC, n.published_at DESC, n.id DESC",
                [CONFIG, self.text, *([self.before] if self.before is not None else []),
                 self.since, *params, MAX_RANKED, MAX_RANKED],
            )
            return cursor.fetchall()

    @property
    def capped(self):
        """Whether the ranked matches stopped at MAX_RANKED: there may be more,
        and the page says "at least" rather than give the number ranked as
        the number found (counting them all would cost what ranking avoids)."""
        return len(self.ids) >= MAX_RANKED

    def count(self):
        return len(self.ids)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        ids = self.ids[index]
        if not ids:
            return []
        # Written as SQL (articles/rows.py): the ORM took 3 ms to compile this read.
        # Only what a result shows and its display policy needs: the card's 56
        # columns took 0.65 ms more of Python to fetch and build (bench/NOTES-pages.md).
        found = rows.cards(
            "SELECT {columns}, ts_headline(%s::regconfig, a.summary,"
            " websearch_to_tsquery(%s::regconfig, %s), %s)"
            " FROM articles_article a JOIN articles_source s ON s.id = a.source_id"
            f" WHERE a.id IN ({', '.join(['%s'] * len(ids))}) AND a.state = %s AND NOT a.is_hidden",
            [CONFIG, CONFIG, self.text, HEADLINE_OPTIONS, *ids, Article.State.READY],
            "snippet",
            only=(RESULT_COLUMNS, RESULT_SOURCE_COLUMNS),
        )
        by_id = {article.pk: article for article in found}
        # A row hidden since the ids were read is left out, not an error.
        return [by_id[pk] for pk in ids if pk in by_id]


class Fts5Search(RankedSearch):
    """RankedSearch on SQLite's FTS5 index: the same newest MAX_RANKED, ranked by bm25."""

    def __init__(self, articles, query):
        self.articles, self.query = articles, query

    @functools.cached_property
    def _ranked(self):
        newest = (
            self.articles.filter(pk__in=fts5.matching_ids(self.query))
            .order_by("-published_at", "-pk")
            # Named, for the ranking query that wraps this one.
            .annotate(match_id=F("pk"), match_published_at=F("published_at"))
            .values_list("match_id", "match_published_at")[:MAX_RANKED]
        )
        return fts5.ranked(newest, self.query)

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
