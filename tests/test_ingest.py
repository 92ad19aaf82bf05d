import json
from datetime import UTC, datetime

import pytest
from django.db import connection

from articles.ingest import (
    FeedRefused,
    canonicalize_url,
    ingest_source,
    parse_feed,
    upsert_entries,
)
from articles.models import Article
from tests.corpus import corpus_path
from tests.factories import make_source

RSS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Example &amp; Co</title><link>https://example.org/</link><ttl>30</ttl>
<item><title>First &lt;b&gt;story&lt;/b&gt;</title>
<link>https://example.org/a?utm_source=rss&amp;id=1#top</link>
<guid isPermaLink="false">a-1</guid><dc:creator>Ann &lt;b&gt;Writer&lt;/b&gt;</dc:creator>
<pubDate>Tue, 17 Feb 2026 15:20:02 GMT</pubDate>
<description>&lt;p onclick="x()"&gt;Hello &lt;a href="javascript:alert(1)"&gt;there&lt;/a&gt;&lt;/p&gt;</description>
</item>
<item><title>No link</title><guid isPermaLink="false">b-2</guid></item>
</channel></rss>"""


def test_parse_feed_normalises_entries():
    """Titles and authors become plain text, HTML is sanitised, dates are UTC."""
    parsed = parse_feed(RSS, base_url="https://example.org/feed")
    assert parsed.title == "Example & Co"
    assert parsed.ttl_minutes == 30
    assert len(parsed.entries) == 1  # the entry without a link has no page to show
    entry = parsed.entries[0]
    assert entry.title == "First story"
    assert entry.author == "Ann Writer"
    assert entry.guid == "a-1"
    assert entry.published_at == datetime(2026, 2, 17, 15, 20, 2, tzinfo=UTC)
    assert "onclick" not in entry.content_html and "javascript:" not in entry.content_html
    assert entry.summary == "Hello there"


def test_parse_feed_refuses_str_and_entities():
    """feedparser never sees a str (it would open URLs and files) or entity declarations."""
    with pytest.raises(TypeError):
        parse_feed("https://example.org/feed.xml")
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss><channel></channel></rss>'
    with pytest.raises(FeedRefused):
        parse_feed(bomb)


def test_canonical_url_drops_tracking_and_fragment():
    assert (
        canonicalize_url("HTTPS://Example.org:443/a?utm_source=x&id=1&fbclid=2#frag")
        == "https://example.org/a?id=1"
    )


@pytest.mark.django_db
def test_upsert_is_idempotent_and_keeps_first_date():
    """Upserting the same entries twice keeps one row and the first-seen date."""
    source = make_source()
    entries = parse_feed(RSS).entries
    first = upsert_entries(source, entries)
    entries[0].published_at = datetime(2026, 2, 18, tzinfo=UTC)
    entries[0].title = "First story, updated"
    second = upsert_entries(source, entries)
    assert len(first) == 1 and second == []
    article = Article.objects.get()
    assert article.title == "First story, updated"
    assert article.published_at == datetime(2026, 2, 17, 15, 20, 2, tzinfo=UTC)
    assert article.canonical_url == "https://example.org/a?id=1"


@pytest.mark.django_db
def test_same_url_under_new_guid_is_not_a_new_article():
    source = make_source()
    entries = parse_feed(RSS).entries
    upsert_entries(source, entries)
    entries[0].guid = "a-1-renamed"
    entries[0].url = "https://example.org/a?id=1&utm_medium=email"
    assert upsert_entries(source, entries) == []
    assert Article.objects.count() == 1


@pytest.mark.django_db
def test_conditional_get_uses_validators(local_server):
    """A 304 leaves articles alone and counts as a healthy fetch."""
    requests = local_server.requests

    def feed(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            handler.send_response(304)
            handler.end_headers()
            return None
        from tests.localserver import Route

        return Route(RSS, 200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'})

    local_server.routes["/feed.xml"] = feed
    source = make_source(feed_url=local_server.base + "/feed.xml")
    assert ingest_source(source).status == "ok"
    source.refresh_from_db()
    assert source.etag == '"v1"'
    assert ingest_source(source).status == "not_modified"
    source.refresh_from_db()
    assert source.last_status == 304 and source.consecutive_failures == 0
    assert requests[-1][1]["If-None-Match"] == '"v1"'
    assert "Lede" in requests[-1][1]["User-Agent"]
    assert Article.objects.count() == 1


@pytest.mark.django_db
def test_news_snapshot_feeds_parse_to_manifest_counts(local_server):
    """Every real feed of the snapshot yields its manifest's entry count through fetch and parse."""
    folder = corpus_path("feeds", "news-snapshot-2026-02-17")
    manifest = json.loads((folder / "manifest.json").read_text())
    tally = []
    for feed in manifest["feeds"]:
        url = local_server.add(
            f"/{feed['file']}", (folder / feed["file"]).read_bytes(), content_type="application/xml"
        )
        source = make_source(feed_url=url, name=feed["title"][:200])
        result = ingest_source(source)
        stored = Article.objects.filter(source=source).count()
        tally.append((feed["file"], feed["entries"], result.entries, stored))
    print("\n".join(f"{name}: manifest={want} parsed={got} stored={rows}" for name, want, got, rows in tally))
    assert [(name, want) for name, want, _got, _rows in tally] == [
        (name, got) for name, _want, got, _rows in tally
    ]


def numbered_feed(count):
    items = "".join(
        f"<item><title>Story {n}</title><link>https://example.org/s/{n}</link>"
        f"<guid>s-{n}</guid><category>Harbour</category><category>Topic {n % 3}</category></item>"
        for n in range(count)
    )
    return f"<rss version='2.0'><channel><title>T</title>{items}</channel></rss>".encode()


@pytest.mark.django_db
def test_a_feed_is_stored_in_the_same_few_statements_whatever_its_length(
    django_assert_num_queries,
):
    """The source's row locked (PostgreSQL; SQLite's writers take turns anyway), one
    read, one insert, one read of the tags and one insert of the article-tag pairs."""
    upsert_entries(make_source(), parse_feed(numbered_feed(3)).entries)  # the tags exist
    for size in (5, 20):  # 20 rows stay within one SQLite INSERT's parameters
        source = make_source()
        entries = parse_feed(numbered_feed(size)).entries
        with django_assert_num_queries(4 + connection.features.has_select_for_update):
            created = upsert_entries(source, entries)
        assert len(created) == size
        stored = Article.objects.filter(source=source).order_by("pk")
        assert list(stored.values_list("pk", flat=True)) == created
    article = Article.objects.get(guid="s-4", source=source)
    assert sorted(article.tags.values_list("name", flat=True)) == ["Harbour", "Topic 1"]


@pytest.mark.django_db
def test_entries_repeated_in_one_feed_make_one_row():
    source = make_source()
    entries = parse_feed(numbered_feed(3)).entries
    created = upsert_entries(source, entries + parse_feed(numbered_feed(3)).entries)
    assert len(created) == 3 and Article.objects.count() == 3
