"""Full-text search: PostgreSQL's ranked websearch on a narrow table of vectors, SQLite's
FTS5 (articles/fts5.py), LIKE elsewhere."""

import functools
import re
from datetime import datetime, timedelta, timezone as dt_timezone

from django.db import connection
from django.db.models import F, Max, Q
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
# A search ranks the matches of the month before the newest article (or
# before the one it goes on from), and older ones when that month holds
# less than a page: what it costs does not grow with the archive.
RECENT = timedelta(days=31)
PAGE = 20
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
    newest = None
    if before is not None:
        newest = Article.objects.filter(pk=before).values_list("published_at", flat=True).first()
        articles = older_than(articles, before, newest)
    if connection.vendor == "sqlite":
        query = fts5.fts5_query(text)
        return None if query is None else Fts5Search(articles, query, newest)
    matches = Q()
    for word in text.split()[:8]:
        word = word.strip('"+-')
        if word:
            matches &= Q(title__icontains=word) | Q(summary__icontains=word)
    return articles.filter(matches).order_by("-published_at")


def older_than(articles, pk, published):
    """`articles` published before the article `pk`, published at `published`
    (ties broken by id); none if it is gone (`published` None)."""
    if published is None:
        return articles.none()
    return articles.filter(Q(published_at__lt=published) | Q(published_at=published, pk__lt=pk))


def oldest(matches):
    """The oldest of `matches`, (id, time) pairs (ties: the lowest id), or None."""
    return min(matches, key=lambda match: (match[1], match[0])) if matches else None


def first_page():
    """The matches a search ranks at least, if the archive has them."""
    return min(PAGE, MAX_RANKED)


def reach(recent, extended, whole):
    """The matches a search ranks, and whether older ones may be left.

    `recent`: the newest matches of the RECENT days before the search's
    newest point, at most MAX_RANKED; `extended`: when those were fewer than
    a page, the newest older ones, up to a page and one more (the one more
    says there are more still, and is not shown); `whole`: whether the
    RECENT days reach back past the archive's start (or the period's).
    Returns (matches, more); each match is an (id, time) pair.
    """
    page = first_page()
    if len(recent) >= MAX_RANKED:
        return recent + extended, True
    if len(recent) < page:
        matches = recent + extended
        if len(matches) > page:
            left = oldest(extended)
            return [match for match in matches if match != left], True
        return matches, False
    return recent + extended, not whole


class RankedSearch:
    """The best matches of the last RECENT days (MAX_RANKED at most, and a page
    at least), found and ranked in one statement.

    A common word can match much of the archive, and ranking it all would
    make the cost grow with the archive: only the recent matches are ranked,
    and the older ones are a link away (`older`, the next search's
    `before`). So a search costs what a month of news costs, whether the
    archive holds two months or two years. They are found in the narrow
    SearchEntry table month by month, newest first (a GIN index of each
    row's lexemes keyed by its month, migration 0029): a month with no match
    costs a lookup. Their vectors are in the rows just visited (migration
    0028), and the ranking is outside the LIMITs so that PostgreSQL cannot
    compute it for every match. Only ids leave the database, and the page's
    own rows (and their snippets) are read by id (bench/NOTES-pages.md has
    the figures).
    """

    model = Article  # ListView names the context's list after it

    def __init__(self, text, source=None, category=None, since=None, before=None):
        self.text, self.source, self.category, self.since = text, source, category, since
        self.before = before

    @functools.cached_property
    def ids(self):
        return [pk for pk, _time in self._reached[0]]

    @property
    def older(self):
        """When older matches may be left (the ranking stopped at MAX_RANKED, at
        the RECENT days' end, or found more than a page beyond them), the
        oldest ranked match's id: the next search goes on `before` it. None
        when every match was ranked."""
        return self._last[0] if self._last else None

    @property
    def reaches(self):
        """When older matches may be left, the oldest ranked match's time."""
        if not self._last:
            return None
        time = self._last[1]  # whole microseconds from PostgreSQL
        return time if isinstance(time, datetime) else datetime.fromtimestamp(time / 1e6, dt_timezone.utc)

    @functools.cached_property
    def _last(self):
        """The oldest ranked match, (id, time), when older ones may be left."""
        matches, more = self._reached
        return oldest(matches) if more else None

    @functools.cached_property
    def _reached(self):
        """(matches, more): each match's (id, time), best first; see reach()."""
        rows = self._rows()
        recent = [(pk, time) for pk, time, beyond, _whole in rows if not beyond]
        extended = [(pk, time) for pk, time, beyond, _whole in rows if beyond]
        matches, more = reach(recent, extended, bool(rows) and rows[0][3])
        kept = {pk for pk, _time in matches}
        return [(pk, time) for pk, time, _beyond, _whole in rows if pk in kept], more

    def _month_matches(self, where, limit):
        """A month's matches newest first, as a lateral subquery of months m."""
        return (
            " CROSS JOIN LATERAL (SELECT e.article_id, e.published_at, e.vector"
            # The month's own check first: on a table small enough to be
            # read whole, it spares the other months' rows their lexemes.
            " FROM articles_searchentry e WHERE e.month = m.month"
            " AND articles_month_lexemes(e.vector, e.month) @@ articles_month_query(b.query, m.month)"
            " AND e.vector @@ b.query"
            + "".join(f" AND {clause}" for clause in where)
            + f" ORDER BY e.published_at DESC, e.article_id DESC LIMIT {limit})"
            " AS e (id, published_at, vector)"
        )

    def _rows(self):
        """(id, time, beyond the RECENT days, whole) of each ranked match, best first."""
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
        anchor, anchor_params = "(SELECT max(published_at) FROM articles_article)", []
        if self.before is not None:
            anchor, anchor_params = "(SELECT published_at FROM articles_searchentry WHERE article_id = %s)", [self.before]
            where.append(
                "(e.published_at, e.article_id) <"
                " (SELECT published_at, article_id FROM articles_searchentry WHERE article_id = %s)"
            )
            params.append(self.before)
        page = first_page()
        # Prepared, with one plan (articles/rows.py): the plan's shape is set
        # by the months' loop, not by the words. 2.3 -> 1.4 ms mean for 400
        # fresh searches at 1,000,000 articles, the same ids for 1,018.
        with rows.cursor() as cursor:
            cursor.execute(
                # b: the query, the newest point (the archive's newest date, or
                # the article older matches go on before), the RECENT days'
                # cut, the months' bounds (two reads of the date index), and
                # whether the cut is past the archive's start or the period's.
                "WITH b AS MATERIALIZED (SELECT q.query, c.cut, articles_month(a.anchor) AS newest,"
                " greatest(articles_month(a.first), articles_month(%s)) AS lowest,"
                " coalesce(a.first >= c.cut OR %s >= c.cut, false) AS whole"
                " FROM websearch_to_tsquery(%s::regconfig, %s) AS q (query),"
                f" (SELECT {anchor}, (SELECT min(published_at) FROM articles_article)) AS a (anchor, first),"
                " LATERAL (SELECT a.anchor - %s) AS c (cut)),"
                # Month by month, newest first, until MAX_RANKED or the cut:
                # the LIMIT stops the nested loop over the months. In a
                # month, the GIN index of lexemes keyed by their month
                # (migration 0029) finds the rows holding the query's words
                # in that month, and the exact query (phrases, negations)
                # is checked on them.
                " recent AS MATERIALIZED (SELECT e.id, e.published_at, e.vector FROM b,"
                " generate_series(b.newest, greatest(b.lowest, articles_month(b.cut)), -1) AS m (month)"
                + self._month_matches([*where, "e.published_at >= b.cut"], "%s")
                + " LIMIT %s),"
                # Fewer than a page in the RECENT days: the newest older ones,
                # to a page and one more. Not read at all otherwise (LIMIT 0).
                " beyond AS (SELECT e.id, e.published_at, e.vector FROM b,"
                " generate_series(articles_month(b.cut), b.lowest, -1) AS m (month)"
                + self._month_matches([*where, "e.published_at < b.cut"], "%s")
                + " LIMIT (SELECT CASE WHEN count(*) < %s THEN %s + 1 - count(*) ELSE 0 END FROM recent))"
                # Only the ids come back, with their times as whole
                # microseconds (the oldest is where older matches start):
                # decoding hundreds of dates, or of extract()'s numerics, in
                # Python is a cost of its own.
                " SELECT n.id, (extract(epoch FROM n.published_at) * 1000000)::bigint, n.beyond, b.whole"
                " FROM (SELECT *, false FROM recent UNION ALL SELECT *, true FROM beyond)"
                " AS n (id, published_at, vector, beyond), b"
                " ORDER BY ts_rank(n.vector, b.query) DESC, n.published_at DESC, n.id DESC",
                [self.since, self.since, CONFIG, self.text, *anchor_params, RECENT,
                 *params, MAX_RANKED, MAX_RANKED, *params, page + 1, page, page],
            )
            return cursor.fetchall()

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
        listed, listed_params = rows.any_of("a.id", ids)
        found = rows.cards(
            "SELECT {columns}, ts_headline(%s::regconfig, a.summary,"
            " websearch_to_tsquery(%s::regconfig, %s), %s)"
            " FROM articles_article a JOIN articles_source s ON s.id = a.source_id"
            f" WHERE {listed} AND a.state = %s AND NOT a.is_hidden",
            [CONFIG, CONFIG, self.text, HEADLINE_OPTIONS, *listed_params, Article.State.READY],
            "snippet",
            only=(RESULT_COLUMNS, RESULT_SOURCE_COLUMNS),
        )
        by_id = {article.pk: article for article in found}
        # A row hidden since the ids were read is left out, not an error.
        return [by_id[pk] for pk in ids if pk in by_id]


class Fts5Search(RankedSearch):
    """RankedSearch on SQLite's FTS5 index: the same recent matches, ranked by bm25."""

    def __init__(self, articles, query, newest=None):
        """`newest`: the time older matches go on before (`articles` already
        ends there); None for the archive's newest."""
        self.articles, self.query, self.newest = articles, query, newest

    @functools.cached_property
    def _reached(self):
        anchor = self.newest or Article.objects.aggregate(newest=Max("published_at"))["newest"]
        if anchor is None:
            return [], False
        cut = anchor - RECENT
        matching = (
            self.articles.filter(pk__in=fts5.matching_ids(self.query))
            .order_by("-published_at", "-pk")
            .values_list("pk", "published_at")
        )
        recent = list(matching.filter(published_at__gte=cut)[:MAX_RANKED])
        page = first_page()
        extended, whole = [], True
        if len(recent) < page:
            extended = list(matching.filter(published_at__lt=cut)[: page + 1 - len(recent)])
        elif len(recent) < MAX_RANKED:
            whole = not self.articles.filter(published_at__lt=cut).exists()
        matches, more = reach(recent, extended, whole)
        ranked = fts5.ranked(
            # Named, for the ranking query that wraps this one.
            Article.objects.filter(pk__in=[pk for pk, _time in matches])
            .annotate(match_id=F("pk"), match_published_at=F("published_at"))
            .values_list("match_id", "match_published_at"),
            self.query,
        )
        times = dict(matches)  # as dates: SQLite's cursor gives text
        return [(pk, times[pk]) for pk, _time in ranked], more

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
