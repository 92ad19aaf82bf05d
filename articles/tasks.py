"""django-q2 entry points: ids in, one plain function each, next step enqueued.

Each rides out an outage of the database or Redis (articles/outages.py):
run again once it has passed, or queued again, never dropped.
"""

import logging
import math
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.tasks import async_task

from .ingest import ingest_source
from .models import MAX_RELATING_ATTEMPTS, Article, Source, SourceImport
from .opml import run_source_import
from .outages import rides_out_outages
from .page_cache import bump_content_version
from .pipeline import extract_and_relate_article, extract_and_relate_articles
from .images import store_pending_images
from .related import relate_article
from .related.additions import refresh_stale_additions
from .retention import prune_term_index, remove_expired_articles
from .websub import renew_subscriptions, subscribe_if_offered

logger = logging.getLogger(__name__)
POLL_LEASE = timedelta(minutes=10)


@rides_out_outages
def poll_sources_task():
    due = list(Source.objects.due().values_list("pk", flat=True))
    broker = get_broker()
    # Not due again until the fetch has had time to run: a slow queue must not
    # collect one fetch of the same source a minute. The fetch sets the real time.
    # Undone if the broker fails midway: the next poll asks again.
    with transaction.atomic():
        Source.objects.filter(pk__in=due).update(next_fetch_at=timezone.now() + POLL_LEASE)
        for source_id in due:
            async_task("articles.tasks.fetch_source_task", source_id, group="fetch", broker=broker)
    return len(due)


@rides_out_outages
def fetch_source_task(source_id):
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return "gone"
    result = ingest_source(source)
    # On the ORM broker, one commit for the feed's whole batch of tasks.
    with transaction.atomic():
        enqueue_extraction(result.new_article_ids)
    subscribe_if_offered(source, result.hub_url, result.self_url)
    refused = f"; {result.refused} refused ({result.notes})" if result.refused else ""
    return f"{result.status}: {len(result.new_article_ids)} new{refused}"


@rides_out_outages
def import_sources_task(import_id):
    """An OPML file uploaded in admin; a rerun skips the feeds already created."""
    source_import = SourceImport.objects.filter(pk=import_id).first()
    if source_import is None:
        return "gone"
    run_source_import(source_import)
    return f"{source_import.status}: {source_import.created} created"


@rides_out_outages
def extract_article_task(article_id, force=False):
    """One article: the admin's "extract again", and tasks queued before batches."""
    return extract_and_relate_article(article_id, force=force)


@rides_out_outages
def extract_articles_task(article_ids):
    """A batch of articles; those not started within the batch's time go to a new task."""
    states, left = extract_and_relate_articles(article_ids, settings.EXTRACT_BATCH_SECONDS)
    if left:
        enqueue_extraction(left)
    ready = sum(state == Article.State.READY for state in states.values())
    return f"{ready} of {len(states)} ready" + (f", {len(left)} re-enqueued" if left else "")


@rides_out_outages
def relate_article_task(article_id):
    """Relate one article again by hand; the pipeline relates in extract_article_task."""
    related = relate_article(article_id)
    bump_content_version()  # its links show at once
    return len(related)


@rides_out_outages
def retry_stalled_task():
    """Re-enqueue articles whose task was lost (worker killed, broker restart) or
    failed after extracting (the task relates an extracted article it cannot claim).

    Each is retried a bounded number of times: extraction_attempts counts
    claims, relating_attempts these re-enqueues. An article whose relating
    fails every time stays shown without a story (the admin lists them under
    "story: empty"; "extract again" gives it new attempts).
    """
    stalled = list(Article.objects.stalled().values_list("pk", flat=True)[:500])
    rows = Article.objects.unrelated().values_list("pk", "relating_attempts")
    unrelated = dict(rows[: 500 - len(stalled)])
    if unrelated:
        Article.objects.filter(pk__in=unrelated).update(
            relating_attempts=F("relating_attempts") + 1
        )
        last = sum(attempts + 1 == MAX_RELATING_ATTEMPTS for attempts in unrelated.values())
        if last:
            logger.warning(
                "%s article(s) get their last attempt to be related; see the failed tasks", last
            )
    enqueue_extraction(stalled + list(unrelated))
    return len(stalled) + len(unrelated)


@rides_out_outages
def store_lead_images_task():
    """Lead images not stored yet, a batch a run (articles/images.py)."""
    stored = store_pending_images()
    if stored:
        bump_content_version()
    return f"{stored} images tried"


@rides_out_outages
def refresh_story_additions_task():
    """What each source adds, for the stories that changed since the last run."""
    refreshed = refresh_stale_additions()
    if refreshed:
        bump_content_version()
    return f"{refreshed} stories"


@rides_out_outages
def renew_subscriptions_task():
    return f"{renew_subscriptions()} WebSub subscriptions asked again"


@rides_out_outages
def prune_term_index_task():
    return f"{prune_term_index()} postings pruned"


@rides_out_outages
def remove_expired_articles_task():
    return f"{remove_expired_articles()} articles removed"


def extraction_batches(article_ids):
    """At most EXTRACT_BATCH articles a task, and at least one task per worker.

    A batch saves a broker round trip per article and lets relating overlap
    the next extraction; splitting a feed's few new articles between the
    workers keeps them all busy.
    """
    article_ids = list(article_ids)
    if not article_ids:
        return []
    count = max(
        math.ceil(len(article_ids) / settings.EXTRACT_BATCH),
        min(len(article_ids), settings.Q_CLUSTER["workers"]),
    )
    size = math.ceil(len(article_ids) / count)
    return [article_ids[start : start + size] for start in range(0, len(article_ids), size)]


def enqueue_extraction(article_ids):
    """Tasks of extract_articles_task, through one broker.

    Without one, django-q2 makes a broker, and on Redis a new connection,
    for every task. save=False: the articles record their own outcome
    (state, state_reason, extracted_at), and pruning results to save_limit
    on every task kept the monitor busy. Failures are still saved.
    """
    broker = get_broker()
    for batch in extraction_batches(article_ids):
        async_task(
            "articles.tasks.extract_articles_task", batch, group="extract", save=False,
            broker=broker,
        )
