"""django-q2 entry points: ids in, one plain function each, next step enqueued."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.tasks import async_task

from .ingest import ingest_source
from .models import Article, Source
from .page_cache import bump_content_version
from .pipeline import extract_and_relate_article
from .related import relate_article

POLL_LEASE = timedelta(minutes=10)


def poll_sources_task():
    due = list(Source.objects.due().values_list("pk", flat=True))
    # Not due again until the fetch has had time to run: a slow queue must not
    # collect one fetch of the same source a minute. The fetch sets the real time.
    Source.objects.filter(pk__in=due).update(next_fetch_at=timezone.now() + POLL_LEASE)
    broker = get_broker()
    for source_id in due:
        async_task("articles.tasks.fetch_source_task", source_id, group="fetch", broker=broker)
    return len(due)


def fetch_source_task(source_id):
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return "gone"
    result = ingest_source(source)
    # On the ORM broker, one commit for the feed's whole batch of tasks.
    broker = get_broker()
    with transaction.atomic():
        for article_id in result.new_article_ids:
            enqueue_extraction(article_id, broker)
    return f"{result.status}: {len(result.new_article_ids)} new"


def extract_article_task(article_id, force=False):
    return extract_and_relate_article(article_id, force=force)


def relate_article_task(article_id):
    """Relate one article again by hand; the pipeline relates in extract_article_task."""
    related = relate_article(article_id)
    bump_content_version()  # its links show at once
    return len(related)


def retry_stalled_task():
    """Re-enqueue articles whose task was lost (worker killed, broker restart) or
    failed after extracting (the task relates an extracted article it cannot claim)."""
    stalled = list(Article.objects.stalled().values_list("pk", flat=True)[:500])
    stalled += Article.objects.unrelated().values_list("pk", flat=True)[: 500 - len(stalled)]
    broker = get_broker()
    for article_id in stalled:
        enqueue_extraction(article_id, broker)
    return len(stalled)


def enqueue_extraction(article_id, broker=None):
    """One task per article. Pass one broker for a batch: without it, django-q2
    makes a broker, and on Redis a new connection, for every task.

    save=False: one result per article is too many to keep, and the article
    records its own outcome (state, state_reason, extracted_at). Failures are
    still saved.
    """
    async_task(
        "articles.tasks.extract_article_task", article_id, group="extract", save=False,
        broker=broker or get_broker(),
    )
