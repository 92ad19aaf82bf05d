"""Topics from the page's own metadata, merged with the feed's, never the category."""

import json

import pytest
from django.urls import reverse

from articles.extract import extract_page
from articles.ingest import Entry, upsert_entries
from articles.pipeline import extract_article
from tests.factories import make_category, make_source

BODY = "".join(f"<p>Paragraph {n} about the new tram line and its first riders.</p>" for n in range(8))


def tagged_page(head):
    return f"<html><head>{head}</head><body><article><h1>Tram opens</h1>{BODY}</article></body></html>"


def test_each_kind_of_page_metadata_gives_topics_normalised():
    json_ld = json.dumps(
        {"@context": "https://schema.org", "@graph": [{"@type": "NewsArticle", "keywords": ["Rail", "city council"]}]}
    )
    head = (
        '<meta property="article:tag" content="Public  transport">'
        '<meta property="article:tag" content="TRAMS">'
        '<meta name="keywords" content="trams, Harbour, #harbour">'
        '<meta name="news_keywords" content="Night buses; A keyword far too long to be any kind of topic name">'
        f'<script type="application/ld+json">{json_ld}</script>'
    )
    tags = extract_page(tagged_page(head)).tags
    assert tags == ["Public transport", "TRAMS", "Harbour", "Night buses", "Rail", "City council"]


def test_topics_are_capped():
    head = '<meta name="keywords" content="{}">'.format(", ".join(f"Topic {n}" for n in range(20)))
    assert len(extract_page(tagged_page(head)).tags) == 8


@pytest.mark.django_db
def test_page_topics_join_the_feeds_and_topic_pages_differ_from_the_category(local_server, client):
    category = make_category(name="Transport", slug="transport")
    source = make_source(category=category)
    url = local_server.add(
        "/tram.html",
        tagged_page('<meta name="keywords" content="Trams, transport"><meta property="article:tag" content="Harbour">'),
    )
    entry = Entry(guid=url, url=url, title="Tram opens", tags=["Transport", "City council"])
    [article_id] = upsert_entries(source, [entry])

    article = extract_article(article_id)

    assert sorted(article.tags.values_list("name", flat=True)) == ["City council", "Harbour", "Trams"]
    topic = client.get(reverse("articles:tag", args=["trams"]))
    assert topic.status_code == 200 and b"Tram opens" in topic.content
    # The category's own name is no topic: its page lists the article, a tag page does not.
    assert b"Tram opens" in client.get(reverse("articles:category", args=["transport"])).content
    assert b"Tram opens" not in client.get(reverse("articles:tag", args=["transport"])).content
