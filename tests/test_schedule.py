from datetime import timedelta

import pytest
from django.utils import timezone

from articles import schedule
from articles.models import Source
from tests.factories import make_article, make_source


@pytest.mark.django_db
def test_failures_back_off_exponentially_then_pause():
    source = make_source(min_interval=timedelta(minutes=10))
    now = timezone.now()
    waits = []
    for _ in range(schedule.PAUSE_AFTER_FAILURES):
        schedule.record_failure(source, "HTTP 500 Internal Server Error", status=500, now=now)
        waits.append(source.next_fetch_at - now)
    assert waits[0] == timedelta(minutes=20) and waits[1] == timedelta(minutes=40)
    assert max(waits) == schedule.MAX_BACKOFF
    source.refresh_from_db()
    assert source.is_active is False
    assert "Paused after 10 failures" in source.last_error
    assert source in Source.objects.failing()


@pytest.mark.django_db
def test_retry_after_is_honoured_and_capped():
    source = make_source()
    now = timezone.now()
    schedule.record_failure(source, "HTTP 429", status=429, now=now, retry_after="7200")
    assert source.next_fetch_at - now == timedelta(hours=2)
    schedule.record_failure(source, "HTTP 503", status=503, now=now, retry_after="999999")
    assert source.next_fetch_at - now == schedule.MAX_RETRY_AFTER


@pytest.mark.django_db
def test_gone_feed_deactivates_source():
    source = make_source()
    schedule.record_failure(source, "HTTP 410 Gone", status=410)
    assert source.is_active is False and "gone" in source.last_error


@pytest.mark.django_db
def test_interval_follows_publishing_rate_and_ttl():
    source = make_source(min_interval=timedelta(minutes=5), max_interval=timedelta(hours=6))
    now = timezone.now()
    for hours in range(10):
        make_article(source=source, published_at=now - timedelta(hours=hours))
    # One article an hour: look again every half hour.
    assert schedule.next_interval(source, now) == timedelta(minutes=30)
    # A feed asking for two hours is obeyed.
    assert schedule.next_interval(source, now, ttl_minutes=120) == timedelta(hours=2)
    assert schedule.next_interval(
        source, now, headers={"cache-control": "public, max-age=10800"}
    ) == timedelta(hours=3)


@pytest.mark.django_db
def test_due_sources():
    now = timezone.now()
    due = make_source(next_fetch_at=now - timedelta(minutes=1))
    new = make_source(next_fetch_at=None)
    make_source(next_fetch_at=now + timedelta(minutes=5))
    make_source(next_fetch_at=None, is_active=False)
    assert set(Source.objects.due(now)) == {due, new}
