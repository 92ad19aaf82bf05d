"""Our own feeds and sitemap parse back: with feedparser and with an XML parser."""

import xml.etree.ElementTree as ET

import feedparser
import pytest
from django.urls import reverse

from tests.factories import make_article, make_category, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles():
    category = make_category(name="World", slug="world")
    source = make_source(name="Daily <Planet> & Co", category=category)
    return [make_article(source=source, author="A & B", title=f"Story {n} <b>") for n in range(3)]


@pytest.mark.parametrize(
    "url_name, args",
    [
        ("articles:feed-rss", []),
        ("articles:feed-atom", []),
        ("articles:category-rss", ["world"]),
        ("articles:category-atom", ["world"]),
    ],
)
def test_feeds_parse_back(client, articles, url_name, args):
    response = client.get(reverse(url_name, args=args))
    assert response.status_code == 200
    assert "Last-Modified" in response.headers
    ET.fromstring(response.content)  # well-formed XML
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    titles = {entry.title for entry in parsed.entries}
    assert titles == {article.title for article in articles}
    entry = parsed.entries[0]
    assert entry.link.startswith("http://testserver/articles/")
    assert entry.author in ("A & B", "A &amp; B")


def test_source_feed_and_unknown_slug(client, articles):
    source = articles[0].source
    parsed = feedparser.parse(client.get(reverse("articles:source-atom", args=[source.slug])).content)
    assert len(parsed.entries) == 3
    assert parsed.feed.title.endswith("Daily <Planet> & Co")
    assert client.get(reverse("articles:source-rss", args=["nope"])).status_code == 404


def test_sitemap_and_robots(client, articles):
    response = client.get("/sitemap.xml")
    root = ET.fromstring(response.content)
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = [loc.text for loc in root.findall("s:url/s:loc", namespace)]
    for article in articles:
        assert any(loc.endswith(article.get_absolute_url()) for loc in locations)
    assert any(loc.endswith(articles[0].source.get_absolute_url()) for loc in locations)
    robots = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in robots
    assert "Disallow: /admin/" in robots


def test_article_page_has_social_meta_and_json_ld(client):
    import json
    import re

    article = make_article(title="Quote </script><script>alert(1)</script>", lead_image_url="https://img.example/a.jpg", image_lead="images/ab/a-lead.webp")
    html = client.get(article.get_absolute_url()).content.decode()
    assert '<meta property="og:title"' in html and 'name="twitter:card"' in html
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(block)
    assert data["@type"] == "NewsArticle" and data["headline"] == article.title
    assert data["image"] == ["http://testserver/media/images/ab/a-lead.webp"]
    assert "<script>alert(1)" not in html


@pytest.mark.django_db
def test_feeds_name_a_stylesheet_and_are_served_for_browsers_to_render(client):
    """application/xml with an xml-stylesheet instruction: a browser shows a page
    (static/feeds/feed.xsl), a feed reader reads the same bytes."""
    import feedparser

    make_article(title="Harbour bridge reopens")
    for url in ["/feeds/latest.rss", "/feeds/latest.atom"]:
        response = client.get(url)
        assert response["Content-Type"] == "application/xml; charset=utf-8"
        head = response.content[:300].decode()
        assert '<?xml-stylesheet href="/static/feeds/feed.xsl"' in head, head
        assert feedparser.parse(response.content).entries[0].title == "Harbour bridge reopens"
    page = client.get("/feeds/").content.decode()
    assert 'href="/feeds/latest.rss"' in page and 'href="/feeds/latest.atom"' in page
