import pytest
from django.urls import reverse

from articles.models import Article, Source
from tests.factories import PAGE, link, make_article, make_source, make_story, serve_small_feed

@pytest.mark.django_db
def test_add_source_in_admin_then_fetch_now(admin_client, local_server, sync_tasks):
    """A source added through the admin form is fetched by "Fetch now"; its articles appear."""
    feed_url = serve_small_feed(local_server)
    response = admin_client.post(
        reverse("admin:articles_source_add"),
        {
            "name": "Harbour Gazette",
            "slug": "harbour-gazette",
            "feed_url": feed_url,
            "site_url": "",
            "language": "en",
            "is_active": "on",
            "min_interval": "00:10:00",
            "max_interval": "06:00:00",
            "display_policy": "full",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    source = Source.objects.get(slug="harbour-gazette")
    assert source.next_fetch_at is not None  # due at once

    response = admin_client.post(
        reverse("admin:articles_source_changelist"),
        {"action": "fetch_now", "_selected_action": [source.pk]},
        follow=True,
    )
    assert response.status_code == 200
    articles = Article.objects.filter(source=source)
    assert articles.count() == 2
    assert all(article.state == Article.State.READY for article in articles)
    assert "harbour bridge repairs" in articles.first().body_text
    source.refresh_from_db()
    assert source.last_status == 200 and source.consecutive_failures == 0

    changelist = admin_client.get(reverse("admin:articles_source_changelist")).content.decode()
    assert "Harbour Gazette" in changelist and "OK" in changelist


@pytest.mark.django_db
def test_article_actions_hide_and_re_extract(admin_client, local_server, sync_tasks):
    feed_url = serve_small_feed(local_server, count=1)
    source = make_source(feed_url=feed_url)
    admin_client.post(
        reverse("admin:articles_source_changelist"),
        {"action": "fetch_now", "_selected_action": [source.pk]},
    )
    article = Article.objects.get()
    assert "corrected" not in article.body_text
    paragraphs = "".join(
        f"<p>Paragraph {p}, corrected: the bridge repairs will cost less than the council "
        f"first said, and the harbour road stays open during the work.</p>"
        for p in range(6)
    )
    local_server.add("/story-0.html", PAGE.format(title="Bridge report 0", paragraphs=paragraphs))
    admin_client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "re_extract", "_selected_action": [article.pk]},
    )
    article.refresh_from_db()
    assert article.state == Article.State.READY and "corrected" in article.body_text
    admin_client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "hide", "_selected_action": [article.pk]},
    )
    article.refresh_from_db()
    assert article.is_hidden


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    ["source", "article", "category", "story", "relatedlink", "comment", "tag"],
)
def test_changelists_render(admin_client, name):
    """Misspelled admin options fail only when the page renders."""
    article = make_article()
    link(article, make_article())
    url = reverse(f"admin:articles_{name}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url + "?q=Headline").status_code == 200


@pytest.mark.django_db
def test_articles_without_a_story_are_listed_apart(admin_client):
    """Where the sweeper's given-up articles are found (retry_stalled_task)."""
    make_story(make_article(title="Related and grouped"))
    make_article(title="Never related")
    url = reverse("admin:articles_article_changelist")
    listed = admin_client.get(url + "?story__isempty=1").content.decode()
    assert "Never related" in listed and "Related and grouped" not in listed


@pytest.mark.django_db
def test_source_health_filters(admin_client):
    make_source(name="Broken Feed", consecutive_failures=3, last_error="HTTP 500")
    make_source(name="Fine Feed")
    html = admin_client.get(
        reverse("admin:articles_source_changelist") + "?health=failing"
    ).content.decode()
    assert "Broken Feed" in html and "Fine Feed" not in html
    assert "HTTP 500" in html


@pytest.mark.django_db
def test_django_q_admin_pages(admin_client):
    for name in ["schedule", "failure", "success", "ormq"]:
        assert admin_client.get(reverse(f"admin:django_q_{name}_changelist")).status_code == 200


OPML = b"""<?xml version="1.0"?><opml version="2.0"><head/><body>
<outline text="Science"><outline type="rss" text="Lab Notes" xmlUrl="https://lab.example/rss"/></outline>
<outline type="rss" text="Dup" xmlUrl="https://dup.example/rss"/></body></opml>"""


@pytest.mark.django_db
def test_import_and_export_opml_in_admin(admin_client, sync_tasks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    make_source(feed_url="https://dup.example/rss")
    url = reverse("admin:articles_source_import_opml")
    response = admin_client.post(url, {"file": SimpleUploadedFile("s.opml", OPML)}, follow=True)
    assert "Imported 1 new source(s); 1 were already here." in response.content.decode()
    assert Source.objects.get(feed_url="https://lab.example/rss").category.name == "Science"
    bad = admin_client.post(url, {"file": SimpleUploadedFile("s.opml", b"<html>")})
    assert "Not" in bad.content.decode() and Source.objects.count() == 2
    export = admin_client.post(
        reverse("admin:articles_source_changelist"),
        {"action": "export_selected_opml", "_selected_action": list(Source.objects.values_list("pk", flat=True))},
    )
    assert export["Content-Type"] == "text/x-opml"
    assert b'xmlUrl="https://lab.example/rss"' in export.content


@pytest.mark.django_db
def test_preview_extraction_and_fetch_history(admin_client, local_server):
    feed_url = serve_small_feed(local_server, count=1)
    response = admin_client.post(
        reverse("admin:articles_source_preview"), {"url": local_server.base + "/story-0.html"}
    )
    html = response.content.decode()
    assert "Bridge report 0" in html and "harbour bridge repairs" in html
    assert Article.objects.count() == 0  # a preview saves nothing
    refused = admin_client.post(reverse("admin:articles_source_preview"), {"url": "http://10.1.2.3/"})
    assert "Refused" in refused.content.decode()

    source = make_source(feed_url=feed_url)
    from articles.ingest import ingest_source

    ingest_source(source)
    history = admin_client.get(reverse("admin:articles_source_fetches", args=[source.pk]))
    assert "ok" in history.content.decode() and "<td>1</td>" in history.content.decode()


@pytest.mark.django_db
def test_story_change_page_shows_its_lead_read_only(admin_client):
    """The lead is chosen by refresh_stories; the form shows it without a field to edit."""
    story = make_story(make_article(title="Harbour crane collapses"))
    html = admin_client.get(reverse("admin:articles_story_change", args=[story.pk])).content.decode()
    assert "Harbour crane collapses" in html
    assert 'name="lead_article"' not in html


@pytest.mark.django_db
def test_deleting_a_source_counts_what_readers_lose_not_internal_rows(admin_client, django_user_model):
    from articles.models import ArticleTerm, Comment, SavedArticle

    source = make_source(name="Harbour Herald")
    articles = [make_article(source=source) for _ in range(3)]
    link(articles[0], articles[1])
    reader = django_user_model.objects.create_user("ana", password="a-long-pass-42")
    Comment.objects.create(article=articles[0], user=reader, body="Thanks")
    SavedArticle.objects.create(article=articles[1], user=reader)
    ArticleTerm.objects.bulk_create(
        ArticleTerm(article=article, term=f"term{n}", weight=0.5, published_at=article.published_at)
        for article in articles for n in range(20)
    )
    url = reverse("admin:articles_source_delete", args=[source.pk])
    html = admin_client.get(url).content.decode()
    for count in ("Articles: 3", "Comments: 1", "Saved copies: 1"):
        assert count in html, count
    assert "Article term:" not in html and "Related link:" not in html
    bulk = admin_client.post(
        reverse("admin:articles_source_changelist"),
        {"action": "delete_selected", "_selected_action": [source.pk]},
    ).content.decode()
    assert "Articles: 3" in bulk and "Article term:" not in bulk
    admin_client.post(url, {"post": "yes"})
    assert not Source.objects.exists() and not Article.objects.exists()


@pytest.mark.django_db
def test_deleting_articles_counts_their_comments_and_saved_copies(admin_client, django_user_model):
    from articles.models import Comment, SavedArticle

    articles = [make_article() for _ in range(3)]
    reader = django_user_model.objects.create_user("ana", password="a-long-pass-42")
    Comment.objects.create(article=articles[0], user=reader, body="Thanks")
    Comment.objects.create(article=articles[1], user=reader, body="Noted")
    SavedArticle.objects.create(article=articles[2], user=reader)
    html = admin_client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "delete_selected", "_selected_action": [a.pk for a in articles[:2]]},
    ).content.decode()
    assert "Comments: 2" in html and "Saved copies: 0" in html
    assert "Articles:" not in html  # the articles themselves are what is listed
    html = admin_client.get(reverse("admin:articles_article_delete", args=[articles[2].pk])).content.decode()
    assert "Comments: 0" in html and "Saved copies: 1" in html


@pytest.mark.django_db
def test_featuring_says_how_long_a_browser_may_keep_the_homepage(admin_client):
    article = make_article()
    response = admin_client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "feature", "_selected_action": [article.pk]},
        follow=True,
    )
    assert "up to 60 seconds" in response.content.decode()


@pytest.mark.django_db
def test_export_opml_button_downloads_every_source(admin_client):
    make_source(name="Lab Notes", feed_url="https://lab.example/rss")
    listing = admin_client.get(reverse("admin:articles_source_changelist")).content.decode()
    export_url = reverse("admin:articles_source_export_opml")
    assert f'href="{export_url}"' in listing
    export = admin_client.get(export_url)
    assert export["Content-Type"] == "text/x-opml"
    assert b'xmlUrl="https://lab.example/rss"' in export.content


@pytest.mark.django_db
def test_trace_is_refused_everywhere_and_the_favicon_is_found(client):
    article = make_article()
    for url in ["/healthz", "/feeds/latest.rss", "/feeds/latest.atom", "/", article.get_absolute_url(), "/admin/"]:
        assert client.generic("TRACE", url).status_code == 405, url
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith("favicon.svg")
