"""A site's address instead of a feed's: the feed is found, through the guarded client."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from articles.ingest import ingest_source
from articles.models import Article, Source
from tests.factories import make_source, serve_small_feed

pytestmark = pytest.mark.django_db

HOME = """<html><head><title>Harbour Gazette</title>{links}</head>
<body><h1>Harbour Gazette</h1><p>Today's news.</p></body></html>"""


def rss_link(href, title=""):
    return f'<link rel="alternate" type="application/rss+xml" title="{title}" href="{href}">'


def serve_home(server, *links):
    return server.add("/", HOME.format(links="".join(links)))


def test_a_homepage_with_one_feed_becomes_that_feed_everywhere(local_server, admin_client):
    """The admin form, add_source and a fetch of a homepage (an OPML of site addresses)."""
    feed_url = serve_small_feed(local_server)
    home = serve_home(local_server, rss_link("/feed.xml", "All news"))

    call_command("add_source", home, stdout=io.StringIO())
    assert Source.objects.get().feed_url == feed_url
    Source.objects.all().delete()

    response = admin_client.post(
        reverse("admin:articles_source_add"),
        {"name": "Harbour Gazette", "slug": "harbour-gazette", "feed_url": home, "site_url": "",
         "language": "en", "is_active": "on", "min_interval": "00:10:00",
         "max_interval": "06:00:00", "display_policy": "full"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Source.objects.get().feed_url == feed_url
    Source.objects.all().delete()

    source = make_source(feed_url=home)
    result = ingest_source(source)
    source.refresh_from_db()
    assert result.status == "ok" and source.feed_url == feed_url
    assert Article.objects.filter(source=source).count() == 2


def test_the_usual_paths_are_tried_when_the_page_names_no_feed(local_server):
    feed_url = serve_small_feed(local_server)
    home = serve_home(local_server)
    call_command("add_source", home, stdout=io.StringIO())
    assert Source.objects.get().feed_url == feed_url


def test_several_feeds_are_offered_to_choose_from(local_server, admin_client):
    feed_url = serve_small_feed(local_server)
    local_server.routes["/sport.xml"] = local_server.routes["/feed.xml"]
    sport = local_server.base + "/sport.xml"
    home = serve_home(local_server, rss_link("/feed.xml", "All news"), rss_link("/sport.xml", "Sport"))
    form = {"name": "Harbour Gazette", "slug": "harbour-gazette", "feed_url": home, "site_url": "",
            "language": "en", "is_active": "on", "min_interval": "00:10:00",
            "max_interval": "06:00:00", "display_policy": "full"}

    page = admin_client.post(reverse("admin:articles_source_add"), form).content.decode()
    assert "This page offers several feeds" in page
    assert 'type="radio"' in page and sport in page and "All news" in page
    assert not Source.objects.exists()
    response = admin_client.post(reverse("admin:articles_source_add"), {**form, "feed_choice": sport})
    assert response.status_code == 302
    assert Source.objects.get().feed_url == sport

    with pytest.raises(CommandError, match="offers several feeds") as error:
        call_command("add_source", home)
    assert feed_url in str(error.value) and sport in str(error.value)

    source = make_source(feed_url=home)
    assert ingest_source(source).status == "failed"
    source.refresh_from_db()
    assert source.feed_url == home
    assert "It offers: All news" in source.last_error and sport in source.last_error


def test_a_feed_on_a_private_address_is_never_fetched(local_server):
    """Discovery goes through the guarded client: a page pointing into private space
    gets nothing from there."""
    home = serve_home(local_server, rss_link("http://10.0.0.1/feed.xml", "Internal"))
    source = make_source(feed_url=home)
    assert ingest_source(source).status == "failed"
    source.refresh_from_db()
    assert source.feed_url == home
    assert "no feed was found" in source.last_error
