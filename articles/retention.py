"""Storage that does not grow without bound: what an article costs, the term index
pruned, expired articles removed.

Both work in short batches, each its own transaction, so neither holds locks
for long nor stops the pipeline writing meanwhile; a run that meets its time
budget leaves the rest to the next scheduled run.
"""

import time
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .models import Article, ArticleTerm, Comment, SavedArticle
from .page_cache import bump_content_version
from .related import refresh_stories
from .related.index import WINDOW

# An article fetched up to a day after its publication still looks back a
# whole WINDOW from its own date: those postings are kept that much longer.
LATE_ARRIVAL = timedelta(days=1)
TERM_BATCH = 5000
ARTICLE_BATCH = 500
# Well inside the task timeout (Q_TIMEOUT, 120 s by default).
TIME_BUDGET = 60.0


def bytes_per_article():
    """The app's tables with their indexes and TOAST, over the articles; None off PostgreSQL."""
    if connection.vendor != "postgresql":
        return None
    tables = [model._meta.db_table for model in
              apps.get_app_config("articles").get_models(include_auto_created=True)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_total_relation_size(to_regclass(name)))"
            " FROM unnest(%s::text[]) AS tables (name)",
            [tables],
        )
        total = cursor.fetchone()[0] or 0
    return total / max(Article.objects.count(), 1)


def prune_term_index(now=None, batch=TERM_BATCH, budget=TIME_BUDGET):
    """Delete postings older than relating ever reads; returns how many."""
    cutoff = (now or timezone.now()) - WINDOW - LATE_ARRIVAL
    stale = ArticleTerm.objects.filter(published_at__lt=cutoff).order_by()
    return in_batches(lambda: stale.filter(pk__in=stale.values("pk")[:batch]).delete()[0],
                      batch, budget)


def expired_articles(now=None):
    """Articles older than RETENTION_DAYS that nobody saved, commented on or featured."""
    days = settings.RETENTION_DAYS
    if not days:
        return Article.objects.none()
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return (
        Article.objects.filter(published_at__lt=cutoff, is_featured=False)
        .exclude(Exists(Comment.objects.filter(article=OuterRef("pk"))))
        .exclude(Exists(SavedArticle.objects.filter(article=OuterRef("pk"))))
    )


def remove_expired_articles(now=None, batch=ARTICLE_BATCH, budget=TIME_BUDGET):
    """Delete expired articles with their links, postings and tags; returns how many.

    Stories they leave empty go; the others get a new lead and counts.
    """
    expired = expired_articles(now)
    removed = 0

    @transaction.atomic
    def remove_batch():
        nonlocal removed
        # Locked first, then checked again: a comment or a save committed
        # after the first read would otherwise be deleted with its article.
        oldest = expired.order_by("published_at", "pk").values("pk")[:batch]
        locked = list(
            Article.objects.filter(pk__in=oldest).select_for_update().values_list("pk", flat=True)
        )
        rows = expired.filter(pk__in=locked)
        story_ids = set(rows.exclude(story=None).values_list("story_id", flat=True))
        # Only the ids are read: deleting loads the rows it deletes.
        removed += rows.only("pk").delete()[1].get(Article._meta.label, 0)
        refresh_stories(story_ids)
        return len(locked)

    in_batches(remove_batch, batch, budget)
    if removed:
        bump_content_version()
    return removed


def in_batches(run_batch, batch, budget):
    """Call run_batch() until it returns less than `batch` or `budget` seconds pass; the total."""
    deadline = time.monotonic() + budget
    total = 0
    while True:
        done = run_batch()
        total += done
        if done < batch or time.monotonic() > deadline:
            return total
