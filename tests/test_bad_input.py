"""Requests a browser or a script can send with bad values: a 4xx or a form error, never a 500."""

import pytest
from django.urls import reverse

from articles.opml import parse_opml
from tests.factories import make_article

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.fixture
def client(client):
    client.raise_request_exception = False
    return client


@pytest.fixture
def admin_client(admin_client):
    admin_client.raise_request_exception = False
    return admin_client


@pytest.mark.parametrize("parameter", ["q", "source", "category", "period", "page"])
def test_nul_byte_in_search_is_refused(client, parameter):
    make_article(title="Harbour news")
    params = {"q": "harbour", parameter: f"harbour{NUL}"}
    response = client.get(reverse("articles:search"), params)
    assert response.status_code == 400


def test_nul_byte_in_a_form_field_is_refused(client, django_user_model):
    user = django_user_model.objects.create_user("reader", password="a long passphrase 1")
    client.force_login(user)
    article = make_article()
    response = client.post(
        reverse("articles:comment", args=[article.slug]), {"body": f"Hello{NUL} there"}
    )
    assert response.status_code == 400
    assert not article.comments.exists()


def test_over_long_query_value_is_refused(client):
    response = client.get(reverse("articles:search"), {"q": "a" * 20_000})
    assert response.status_code == 413


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_over_long_username_is_a_form_error(client, url_name):
    response = client.post(reverse(url_name), {"username": "u" * 300, "password": "secret"})
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()


@pytest.mark.parametrize("value", ["abc", "²", "9" * 40, "-1", " 1"])
def test_admin_preview_of_a_bad_article_id_is_not_found(admin_client, value):
    response = admin_client.get(reverse("admin:articles_source_preview"), {"article": value})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"state": NUL},
        {"state__exact": NUL},
        {"source__id__exact": "abc"},
        {"source__id__exact": "9" * 40},
        {"story__isempty": "maybe"},
        {"published_at__year": "abc"},
        {"published_at__year": "2147483648"},
        {"published_at__year": "2026", "published_at__month": "99999999999"},
        {"p": "abc"},
        {"o": "abc"},
        {"q": NUL},
    ],
)
def test_admin_changelist_filters_with_bad_values_never_fail(admin_client, query):
    make_article()
    response = admin_client.get(reverse("admin:articles_article_changelist"), query)
    assert response.status_code in (200, 302, 400, 404)


def test_admin_change_page_of_a_non_numeric_id_is_not_an_error(admin_client):
    response = admin_client.get("/admin/articles/source/abc/change/")
    assert response.status_code in (302, 404)


def test_opml_nested_1200_deep_is_read_without_recursion():
    depth = 1200
    opening = '<outline text="level">' * depth
    closing = "</outline>" * depth
    feed = '<outline text="Deep" xmlUrl="https://deep.example/feed.xml"/>'
    content = f"<opml version='2.0'><body>{opening}{feed}{closing}</body></opml>".encode()
    outlines = parse_opml(content)
    assert [outline.feed_url for outline in outlines] == ["https://deep.example/feed.xml"]
    assert outlines[0].category == "level"


def test_opml_over_2_mb_is_a_form_error(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    outline = b'<outline text="x" xmlUrl="https://x.example/feed.xml"/>'
    content = b"<opml version='2.0'><body>" + outline * 40_000 + b"</body></opml>"
    assert len(content) > 2 * 1024 * 1024
    response = admin_client.post(
        reverse("admin:articles_source_import_opml"),
        {"file": SimpleUploadedFile("huge.opml", content)},
    )
    assert response.status_code == 200
    assert "larger than 2 MB" in response.content.decode()
