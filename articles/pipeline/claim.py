"""The extraction lease: one worker at a time holds an article."""

import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from ..models import MAX_EXTRACTION_ATTEMPTS, Article, Source, heavy_columns
from ..outages import outage_retry_at


def claim_article(article_id, now=None, sources=None):
    """Take the extraction lease on one article; None if another worker holds it.

    A conditional UPDATE is the claim, so two workers cannot both win; the
    lease expires, so a worker killed mid-extraction does not block the row.
    An article shown with the feed's text whose page is due again stays
    shown while it is fetched: its claim moves retry_at past the lease, so
    a killed worker's retry is due again when the lease ends.

    One statement: the UPDATE returns the row (RETURNING, PostgreSQL and
    SQLite alike). `sources` ({id: Source}) keeps a batch's sources, read
    once, with their category, instead of a join for every article.
    """
    now = now or timezone.now()
    until = now + timedelta(seconds=settings.EXTRACTION_LEASE)
    table = Article._meta.db_table
    # What extraction replaces is not read; the feed's text (the fallback)
    # and the page's validators (a conditional GET) are.
    heavy = set(heavy_columns(keep=["feed_content_html", "page_validators"]))
    columns = [field.column for field in Article._meta.concrete_fields if field.name not in heavy]
    adapt = connection.ops.adapt_datetimefield_value  # raw SQL: the ORM's own format
    ready, extracting = Article.State.READY, Article.State.EXTRACTING
    claimed = list(
        Article.objects.raw(
            f"UPDATE {table} SET"
            " state = CASE WHEN state = %s THEN %s ELSE %s END,"
            " claimed_until = %s,"
            " retry_at = CASE WHEN state = %s THEN %s ELSE retry_at END,"
            " extraction_attempts = extraction_attempts + 1"
            " WHERE id = %s AND ((state IN (%s, %s) OR (state = %s AND claimed_until < %s))"
            " AND extraction_attempts < %s OR state = %s AND retry_at <= %s)"
            f" RETURNING {', '.join(columns)}",
            (
                ready, ready, extracting, adapt(until), ready, adapt(until), article_id,
                Article.State.PENDING, Article.State.FAILED, extracting, adapt(now),
                MAX_EXTRACTION_ATTEMPTS, ready, adapt(now),
            ),
        )
    )
    if not claimed:
        return None
    article = claimed[0]
    sources = {} if sources is None else sources
    if article.source_id not in sources:
        sources[article.source_id] = Source.objects.select_related("category").get(
            pk=article.source_id
        )
    article.source = sources[article.source_id]
    return article


class Leases:
    """The leases a running batch holds, renewed while it runs.

    A lease is short, so that a killed worker's articles are soon taken
    again; a page may take longer to arrive, so the batch renews every lease
    it holds each third of a lease, when it finishes an article and while it
    waits for a page. The articles it has yet to claim (`waiting`) are due
    to the sweeper (retry_at) a lease after the batch last renewed: those of
    a killed worker's batch are taken again as soon as its claimed ones.
    """

    def __init__(self, waiting=()):
        self.renew_every = settings.EXTRACTION_LEASE / 3
        self.waiting = waiting
        self.renewed_at = time.monotonic()
        if waiting:
            self.keep_waiting(timezone.now())

    def renew_if_due(self, article_ids):
        if time.monotonic() - self.renewed_at < self.renew_every:
            return
        self.renewed_at = time.monotonic()
        now = timezone.now()
        until = now + timedelta(seconds=settings.EXTRACTION_LEASE)
        # Only leases still held: one that ran out may be another worker's now.
        # A page fetched again (retry_at moved with its lease) stays due
        # when a killed worker's lease ends.
        fetched_again = Q(state=Article.State.READY, retry_at=F("claimed_until"))
        Article.objects.filter(pk__in=list(article_ids), claimed_until__gte=now).update(
            claimed_until=until,
            retry_at=Case(When(fetched_again, then=Value(until)), default=F("retry_at")),
        )
        if self.waiting:
            self.keep_waiting(now)

    def keep_waiting(self, now):
        until = now + timedelta(seconds=settings.EXTRACTION_LEASE)
        Article.objects.filter(pk__in=list(self.waiting), state=Article.State.PENDING).update(
            retry_at=until
        )


def release_claims(article_ids):
    """Extracted and related: the sweeper may look at them again (Article.unrelated)."""
    if not article_ids:
        return
    Article.objects.filter(pk__in=list(article_ids), claimed_until__isnull=False).update(
        claimed_until=None
    )


def postpone_article(article, now=None):
    """An outage, not the page, stopped its extraction: the article waits for
    the sweeper, as it was (pending, or shown with the feed's text), and the
    claim's attempt is given back."""
    now = now or timezone.now()
    article.state = (
        Article.State.PENDING if article.state == Article.State.EXTRACTING else article.state
    )
    article.retry_at = outage_retry_at(now, article.discovered_at)
    article.claimed_until = None
    Article.objects.filter(pk=article.pk).update(
        state=article.state, retry_at=article.retry_at, claimed_until=None,
        extraction_attempts=Greatest(F("extraction_attempts") - 1, 0),
    )
    return article


def reset_for_extraction(article_id):
    """An editor's "extract again": new attempts, whatever the article's state."""
    Article.objects.filter(pk=article_id).update(
        state=Article.State.PENDING, extraction_attempts=0, claimed_until=None,
        relating_attempts=0, retry_at=None, page_retries=0,
    )
