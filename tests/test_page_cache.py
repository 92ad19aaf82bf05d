import time

import pytest
from django.test import Client
from django.urls import reverse

from articles import tasks
from tests.factories import make_article

pytestmark = pytest.mark.django_db


def test_anonymous_pages_come_from_cache_without_queries(client, django_assert_num_queries):
    article = make_article()
    first = client.get("/")
    assert first.headers.get("X-Page-Cache") is None
    with django_assert_num_queries(0):
        second = client.get("/")
    assert second.headers["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert "Content-Security-Policy" in second.headers  # headers are still added
    assert article.title in second.content.decode()


def test_repeat_visit_gets_304(client):
    make_article()
    etag = client.get("/").headers["ETag"]
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304


def test_hiding_an_article_shows_at_once(admin_client):
    article = make_article()
    anonymous = Client()
    assert article.title in anonymous.get("/").content.decode()
    admin_client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "hide", "_selected_action": [article.pk]},
    )
    assert article.title not in anonymous.get("/").content.decode()
    assert anonymous.get(article.get_absolute_url()).status_code == 404


def test_new_article_shows_after_its_pipeline_step(client):
    client.get("/")
    article = make_article()
    tasks.relate_article_task(article.pk)
    assert article.title in client.get("/").content.decode()


def test_signed_in_pages_are_never_cached(client, django_user_model):
    make_article()
    client.force_login(django_user_model.objects.create_user("sam", password="pw-123456789"))
    client.get("/")
    response = client.get("/")
    assert "X-Page-Cache" not in response.headers
    assert "Sign out sam" in response.content.decode()
    assert "Sign out sam" not in Client().get("/").content.decode()


def test_new_articles_bump_the_version_at_most_every_few_seconds(monkeypatch):
    """A burst of new articles costs one bump; moderation always bumps."""
    from articles import page_cache

    clock = [1000.0]
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: clock[0])
    monkeypatch.setitem(page_cache.local_version, "new_content_bumped_at", None)
    start = page_cache.content_version()
    assert page_cache.bump_content_version_for_new_article()
    bumped = page_cache.content_version()
    assert bumped > start
    clock[0] += 1
    assert not page_cache.bump_content_version_for_new_article()
    assert page_cache.content_version() == bumped
    page_cache.bump_content_version()  # moderation
    assert page_cache.content_version() > bumped
    clock[0] += page_cache.NEW_CONTENT_BUMP_INTERVAL
    assert page_cache.bump_content_version_for_new_article()


def test_a_skipped_bump_is_made_by_the_first_reader_once_it_is_due(monkeypatch):
    """A new article whose bump was skipped shows within the interval, not a
    page's lifetime: the bump is left due, and one reader makes it."""
    from articles import page_cache

    monkeypatch.setattr(page_cache, "NEW_CONTENT_BUMP_INTERVAL", 0.5)
    monkeypatch.setitem(page_cache.local_version, "new_content_bumped_at", None)

    def read():
        # As a process does once a second.
        page_cache.local_version["read_at"] = float("-inf")
        return page_cache.content_version()

    assert page_cache.bump_content_version_for_new_article()
    bumped = read()
    assert not page_cache.bump_content_version_for_new_article()  # skipped
    assert not page_cache.bump_content_version_for_new_article()  # one due bump for both
    assert read() == bumped  # not due yet
    time.sleep(0.6)
    assert read() == bumped + 1
    assert read() == bumped + 1  # made once


def test_new_article_from_the_extraction_task_shows_at_once(client, local_server, monkeypatch):
    from articles import page_cache
    from tests.factories import make_source
    from tests.factories import serve_small_feed

    monkeypatch.setitem(page_cache.local_version, "new_content_bumped_at", None)
    client.get("/")
    source = make_source(feed_url=serve_small_feed(local_server, count=1))
    tasks.fetch_source_task(source.pk)
    article = source.articles.get()
    assert tasks.extract_article_task(article.pk) == "ready"
    assert article.title in client.get("/").content.decode()


def test_an_expired_page_is_renewed_by_one_request_while_others_get_the_old_copy(
    client, monkeypatch, django_assert_num_queries
):
    from django.core.cache import cache

    from articles import page_cache

    first = make_article()
    client.get("/")
    # Not on the stored page: no pipeline step bumped the version (nor did a
    # new source, whose name the navigation may show).
    second = make_article(source=first.source)
    monkeypatch.setattr(page_cache, "LIFETIME", 0)  # the stored entry's lifetime has ended
    key = page_cache.page_key(page_cache.content_version(), "GET", "/")
    assert page_cache.claim_renewal(key)  # another worker is rendering it again
    assert not page_cache.claim_renewal(key)  # and only one may
    with django_assert_num_queries(0):
        waiting = client.get("/")
    assert waiting.headers["X-Page-Cache"] == "stale"
    assert int(waiting.headers["Age"]) >= 0
    assert first.title in waiting.content.decode()
    assert second.title not in waiting.content.decode()
    cache.delete(f"{key}:renewal")  # that worker died; its claim ran out
    renewing = client.get("/")
    assert "X-Page-Cache" not in renewing.headers
    assert second.title in renewing.content.decode()
