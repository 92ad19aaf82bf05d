from datetime import timedelta

import pytest
from django.utils import timezone

from articles import tasks
from articles.models import Article, RelatedLink
from tests.factories import make_source
from tests.test_admin import serve_small_feed


@pytest.mark.django_db
def test_poll_fetches_due_sources_then_extracts_and_relates(local_server, sync_tasks):
    """poll -> fetch_source -> extract_article -> relate_article, each its own task."""
    due = make_source(feed_url=serve_small_feed(local_server, count=3))
    make_source(next_fetch_at=timezone.now() + timedelta(hours=1))
    assert tasks.poll_sources_task() == 1
    assert Article.objects.filter(source=due, state=Article.State.READY).count() == 3
    assert RelatedLink.objects.count() > 0
    due.refresh_from_db()
    assert due.next_fetch_at > timezone.now()
    assert tasks.poll_sources_task() == 0


@pytest.mark.django_db
def test_tasks_are_harmless_to_repeat(local_server, sync_tasks):
    source = make_source(feed_url=serve_small_feed(local_server, count=2))
    tasks.fetch_source_task(source.pk)
    tasks.fetch_source_task(source.pk)
    article = Article.objects.first()
    assert tasks.extract_article_task(article.pk) == "not claimed"
    tasks.relate_article_task(article.pk)
    tasks.relate_article_task(article.pk)
    assert Article.objects.count() == 2
    assert RelatedLink.objects.filter(from_article=article).count() == 1
    assert tasks.fetch_source_task(10**9) == "gone"


@pytest.mark.django_db
def test_stalled_articles_are_retried(local_server, sync_tasks):
    source = make_source(feed_url=serve_small_feed(local_server, count=1))
    from articles.ingest import ingest_source

    ingest_source(source)  # rows created, but their tasks were lost
    Article.objects.update(discovered_at=timezone.now() - timedelta(minutes=10))
    assert tasks.retry_stalled_task() == 1
    assert Article.objects.get().state == Article.State.READY
    assert tasks.retry_stalled_task() == 0
