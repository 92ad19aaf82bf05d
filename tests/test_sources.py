"""Sources: created one way, their fetch outcomes recorded without overwriting editors."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from articles import schedule, sources
from articles.ingest import ingest_source
from articles.models import Category, Source
from articles.opml import import_outlines, parse_opml
from tests.factories import make_article, make_source, serve_small_feed


@pytest.mark.django_db
def test_failures_back_off_then_pause():
    source = make_source(min_interval=timedelta(minutes=10))
    now = timezone.now()
    for _ in range(schedule.PAUSE_AFTER_FAILURES):
        sources.record_failure(source, "HTTP 500 Internal Server Error", status=500, now=now)
    source.refresh_from_db()
    assert source.next_fetch_at - now == schedule.MAX_BACKOFF
    assert source.is_active is False
    assert "Paused after 10 failures" in source.last_error
    assert source in Source.objects.failing()


@pytest.mark.django_db
def test_gone_feed_deactivates_source():
    source = make_source()
    sources.record_failure(source, "HTTP 410 Gone", status=410)
    source.refresh_from_db()
    assert source.is_active is False and "gone" in source.last_error


@pytest.mark.django_db
def test_success_follows_the_publishing_rate():
    source = make_source(min_interval=timedelta(minutes=5), max_interval=timedelta(hours=6))
    now = timezone.now()
    for hours in range(10):
        make_article(source=source, published_at=now - timedelta(hours=hours))
    sources.record_success(source, status=200, now=now)
    source.refresh_from_db()
    assert source.next_fetch_at - now == timedelta(minutes=30)
    assert source.last_status == 200 and source.consecutive_failures == 0


@pytest.mark.django_db
def test_due_sources():
    now = timezone.now()
    due = make_source(next_fetch_at=now - timedelta(minutes=1))
    new = make_source(next_fetch_at=None)
    make_source(next_fetch_at=now + timedelta(minutes=5))
    make_source(next_fetch_at=None, is_active=False)
    assert set(Source.objects.due(now)) == {due, new}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("feed_works", [True, False])
def test_a_pause_made_while_the_feed_is_fetched_stands(local_server, admin_client, feed_works):
    """An editor pauses a source while its fetch is in flight: the fetch's outcome,
    recorded seconds later, does not undo the pause (nor any other edit)."""
    if feed_works:
        feed_url = serve_small_feed(local_server)
    else:
        feed_url = local_server.add("/feed.xml", "down", status=500)
    arrived, release = threading.Event(), threading.Event()
    served = local_server.routes["/feed.xml"]

    def held(handler):
        arrived.set()
        release.wait(10)
        return served

    local_server.routes["/feed.xml"] = held
    source = make_source(feed_url=feed_url, name="Harbour Gazette")

    def fetch_in_thread():
        try:
            ingest_source(source)
        finally:
            connection.close()

    fetching = threading.Thread(target=fetch_in_thread)
    fetching.start()
    assert arrived.wait(10)
    response = admin_client.post(
        reverse("admin:articles_source_changelist"),
        {"action": "pause", "_selected_action": [source.pk]},
    )
    assert response.status_code == 302
    Source.objects.filter(pk=source.pk).update(name="Harbour Gazette (renamed)")
    release.set()
    fetching.join(20)
    source.refresh_from_db()
    assert source.is_active is False
    assert source.name == "Harbour Gazette (renamed)"
    assert source.last_status == (200 if feed_works else 500)


@pytest.mark.django_db
def test_opml_import_is_linear_and_spreads_first_fetches(django_assert_max_num_queries):
    """A thousand outlines titled alike: slugs chosen in memory, one insert (that
    SQLite splits at its parameter limit), not a query per outline; the first
    fetches are spread out beyond the first IMPORT_AT_ONCE."""
    from articles import opml

    outlines = "".join(
        f'<outline text="Daily News" xmlUrl="https://news-{n}.example/feed.xml" category="World"/>'
        for n in range(1000)
    )
    content = f"<opml version='2.0'><body>{outlines}</body></opml>".encode()
    with django_assert_max_num_queries(12 if connection.vendor == "postgresql" else 40):
        created, skipped = import_outlines(parse_opml(content))
    assert (created, skipped) == (1000, 0)
    slugs = set(Source.objects.values_list("slug", flat=True))
    assert len(slugs) == 1000 and {"daily-news", "daily-news-2", "daily-news-1000"} <= slugs
    assert Category.objects.get().sources.count() == 1000
    due = sorted(Source.objects.values_list("next_fetch_at", flat=True))
    assert due[opml.IMPORT_AT_ONCE - 1] == due[0]
    assert due[-1] - due[0] == (999 - opml.IMPORT_AT_ONCE) * opml.IMPORT_DUE_EVERY
    assert import_outlines(parse_opml(content)) == (0, 1000)


@pytest.mark.django_db
def test_every_way_of_adding_a_source_goes_through_create_sources(admin_client, local_server):
    """The admin form, the command and OPML all give a unique slug and a source due now."""
    import io

    from django.core.management import call_command

    feeds = [local_server.base + path for path in ("/a.xml", "/b.xml", "/c.xml")]
    serve_small_feed(local_server)
    served = local_server.routes["/feed.xml"]
    local_server.routes.update({"/a.xml": served, "/b.xml": served, "/c.xml": served})
    admin_client.post(
        reverse("admin:articles_source_add"),
        {"name": "Daily", "slug": "daily", "feed_url": feeds[0],
         "site_url": "", "language": "en", "is_active": "on", "display_policy": "full",
         "min_interval": "00:10:00", "max_interval": "06:00:00"},
    )
    call_command(
        "add_source", feeds[1], "--name", "Daily", "--category", "World", stdout=io.StringIO()
    )
    import_outlines(parse_opml(
        f"<opml version='2.0'><body><outline text='Daily' xmlUrl='{feeds[2]}'/></body></opml>".encode()
    ))
    added = Source.objects.order_by("pk")
    assert [source.slug for source in added] == ["daily", "daily-2", "daily-3"]
    assert all(source.next_fetch_at <= timezone.now() for source in added)
