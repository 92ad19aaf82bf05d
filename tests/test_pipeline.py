"""The whole pipeline on real pages, served from 127.0.0.1, on PostgreSQL."""

import gzip
import html
import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from django.urls import reverse

from articles.models import Article, RelatedLink, Story
from articles.pipeline import run_pass
from tests.corpus import score_pages
from tests.corpus import corpus_path
from tests.factories import make_source

PAGES = 30
TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.S | re.I)


def aeb_feed(server, count=PAGES):
    """Serve `count` benchmark pages gzipped and an RSS feed listing them."""
    folder = corpus_path("extraction", "scrapinghub-aeb")
    truth = json.loads((folder / "ground-truth.json").read_text())
    items, expected = [], {}
    now = datetime.now(UTC)
    for n, page_id in enumerate(sorted(truth)[:count]):
        compressed = (folder / "html" / f"{page_id}.html.gz").read_bytes()
        url = server.add(f"/aeb/{page_id}.html", compressed, Content_Encoding="gzip")
        match = TITLE.search(gzip.decompress(compressed))
        title = html.unescape(match.group(1).decode("utf-8", "replace")).strip() if match else page_id
        expected[url] = truth[page_id]["articleBody"]
        items.append(
            f"<item><title>{html.escape(title)}</title><link>{url}</link>"
            f"<guid isPermaLink='false'>{page_id}</guid>"
            f"<pubDate>{format_datetime(now - timedelta(minutes=n))}</pubDate></item>"
        )
    feed = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Benchmark news</title><link>{server.base}/</link>{''.join(items)}"
        "</channel></rss>"
    )
    feed_url = server.add("/aeb/feed.xml", feed, content_type="application/rss+xml")
    return feed_url, expected


@pytest.mark.django_db
def test_feed_to_pages_end_to_end(local_server, client):
    """Real pages become ready articles once each, close to the true text, related and shown."""
    feed_url, expected = aeb_feed(local_server)
    source = make_source(feed_url=feed_url, name="Benchmark News")

    summary = run_pass([source])

    assert summary.new_articles == PAGES
    assert Article.objects.count() == PAGES
    ready = Article.objects.filter(state=Article.State.READY)
    assert ready.count() == PAGES
    precision, recall, f1 = score_pages(
        (expected[article.url], article.body_text) for article in ready
    )
    assert f1 > 0.85, (precision, recall, f1)
    assert RelatedLink.objects.exists()
    assert Story.objects.exists()

    home = client.get(reverse("articles:list"))
    assert home.status_code == 200
    newest = Article.objects.first()
    assert newest.title in html.unescape(home.content.decode())

    linked = RelatedLink.objects.select_related("from_article", "to_article").first()
    page = client.get(linked.from_article.get_absolute_url())
    text = html.unescape(page.content.decode())
    assert page.status_code == 200
    assert linked.from_article.body_text.split("\n")[0][:60] in text
    assert linked.to_article.title in text
    assert "Related articles" in text


@pytest.mark.django_db
def test_second_pass_creates_no_duplicates(local_server):
    """Fetching the same feed again, even with new validators, adds no row."""
    feed_url, _expected = aeb_feed(local_server, count=5)
    source = make_source(feed_url=feed_url)
    run_pass([source])
    counts = (Article.objects.count(), RelatedLink.objects.count())

    source.refresh_from_db()
    source.etag = source.last_modified = ""
    second = run_pass([source])

    assert second.new_articles == 0
    assert (Article.objects.count(), RelatedLink.objects.count()) == counts
    assert Article.objects.filter(state=Article.State.READY).count() == 5
