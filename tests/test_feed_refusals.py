"""Nothing dropped silently: entries not stored are counted, with a reason, in the fetch log."""

from datetime import UTC, datetime, timedelta

import pytest

from articles.ingest import MAX_ENTRIES, ingest_source, parse_feed
from articles.models import Article, FetchLog
from tests.factories import make_source

pytestmark = pytest.mark.django_db


def dated_feed(count, start=datetime(2026, 1, 1, tzinfo=UTC)):
    """`count` entries, the oldest first (feeds may list them either way)."""
    items = "".join(
        f"<item><title>Story {n}</title><link>https://news.example/s/{n}</link>"
        f"<guid isPermaLink='false'>s-{n}</guid><pubDate>"
        f"{(start + timedelta(minutes=n)).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
        for n in range(count)
    )
    return f"<rss version='2.0'><channel><title>Wire</title>{items}</channel></rss>".encode()


def test_a_long_feed_keeps_its_newest_entries_and_says_it_was_cut(local_server):
    url = local_server.add("/wire.xml", dated_feed(5000), content_type="application/rss+xml")
    source = make_source(feed_url=url)
    result = ingest_source(source)
    assert result.status == "ok"
    stored = set(Article.objects.filter(source=source).values_list("guid", flat=True))
    assert stored == {f"s-{n}" for n in range(5000 - MAX_ENTRIES, 5000)}
    log = FetchLog.objects.get(source=source)
    assert log.refused == 4500
    assert "4500 cut at MAX_ENTRIES (500), the newest kept" in log.notes
    source.refresh_from_db()
    assert source.last_notes == log.notes


def test_undated_entries_count_as_older_and_keep_feed_order():
    undated = "".join(
        f"<item><title>U{n}</title><link>https://news.example/u/{n}</link></item>"
        for n in range(MAX_ENTRIES + 5)
    )
    content = f"<rss version='2.0'><channel>{undated}</channel></rss>".encode()
    parsed = parse_feed(content)
    assert [entry.title for entry in parsed.entries] == [f"U{n}" for n in range(MAX_ENTRIES)]


def test_bad_links_and_conflicting_guids_are_counted_with_their_reason(local_server):
    items = (
        "<item><title>Good</title><link>https://news.example/good</link><guid isPermaLink='false'>g-1</guid></item>"
        "<item><title>Same GUID, other link</title><link>https://news.example/other</link>"
        "<guid isPermaLink='false'>g-1</guid></item>"
        "<item><title>A repeat</title><link>https://news.example/good</link><guid isPermaLink='false'>g-1</guid></item>"
        "<item><title>No link</title><guid isPermaLink='false'>g-2</guid></item>"
        "<item><title>Mail</title><link>mailto:desk@news.example</link></item>"
    )
    feed = f"<rss version='2.0'><channel><title>Desk</title>{items}</channel></rss>"
    url = local_server.add("/desk.xml", feed, content_type="application/rss+xml")
    source = make_source(feed_url=url)
    ingest_source(source)
    assert list(Article.objects.filter(source=source).values_list("title", flat=True)) == ["Good"]
    log = FetchLog.objects.get(source=source)
    assert log.refused == 3
    assert log.notes == "2 no http(s) link; 1 a GUID already given to another link"


def test_source_admin_shows_the_last_notes(admin_client, local_server):
    url = local_server.add("/wire.xml", dated_feed(MAX_ENTRIES + 1), content_type="application/rss+xml")
    source = make_source(feed_url=url)
    ingest_source(source)
    page = admin_client.get(f"/admin/articles/source/{source.pk}/change/").content.decode()
    assert "1 cut at MAX_ENTRIES (500), the newest kept" in page
    history = admin_client.get(f"/admin/articles/source/{source.pk}/fetches/").content.decode()
    assert "1 cut at MAX_ENTRIES" in history
