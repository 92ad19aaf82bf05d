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
