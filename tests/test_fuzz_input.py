"""Generated bad values in every form field and query parameter: never a 5xx."""

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.factories import make_article, make_category, make_source, make_story

pytestmark = pytest.mark.django_db

NASTY = [
    "\x00", "a\x00b", "-1", "0", "²", "١٢", "9" * 40, "1e309", "NaN", "nan", "inf", "1.5",
    "true", "None", "[]", "{}", "%00", "%", "../../etc/passwd", "' OR 1=1 --", '"', "\\",
    "<script>alert(1)</script>", "\u202e", "\ufeff", "🦆" * 50, "a" * 300, "a" * 5000,
    " ", "\t\n\r", "99999999 days", "-999999999", "00:00:00", "P1Y", "2026-02-30", "1" * 10_001,
]
BAD_VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(min_size=200, max_size=3000),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)

PUBLIC_QUERIES = {
    "/": ["page"],
    "/search/": ["q", "source", "category", "period", "page"],
    "/sources/{source}/": ["page"],
    "/categories/{category}/": ["page"],
    "/saved/": ["page"],
    "/stories/{story}/": ["page"],
    "/feeds/latest.rss": ["page"],
    "/sitemap.xml": ["p", "section"],
    "/accounts/login/": ["next"],
    "/admin/login/": ["next"],
}
ADMIN_QUERIES = {
    "/admin/articles/article/": [
        "q", "o", "p", "state__exact", "state", "is_hidden__exact", "is_featured__exact",
        "story__isempty", "source__category__id__exact", "source__id__exact",
        "published_at__year", "published_at__month", "published_at__day", "_popup",
        "_to_field", "e", "all",
    ],
    "/admin/articles/source/": [
        "q", "o", "p", "category__id__exact", "is_active__exact", "health", "language",
        "last_fetched_at__year", "last_fetched_at__month",
    ],
    "/admin/articles/comment/": ["q", "is_public__exact", "user__id__exact", "article__id__exact"],
    "/admin/articles/story/": ["q", "updated_at__year", "o"],
    "/admin/articles/sourceimport/": ["q", "o", "p", "status__exact", "created_at__year"],
    "/admin/articles/source/preview/": ["article"],
    "/admin/articles/source/add/": ["_changelist_filters", "_popup", "_to_field"],
}
PUBLIC_FORMS = {
    "/accounts/login/": {"username": "reader", "password": "wrong"},
    "/admin/login/": {"username": "reader", "password": "wrong"},
    "/accounts/signup/": {
        "username": "newcomer", "email": "new@example.com",
        "password1": "a long passphrase 7", "password2": "a long passphrase 7",
    },
    "/accounts/password_reset/": {"email": "someone@example.com"},
    "/articles/{article}/comments/": {"body": "A fine comment.", "website": ""},
    "/articles/{article}/save/": {"action": "save", "next": "/"},
}
ADMIN_FORMS = {
    "/admin/articles/source/add/": {
        "name": "Fuzz Gazette", "slug": "fuzz-gazette", "feed_url": "not a url",
        "site_url": "", "category": "", "language": "en", "is_active": "on",
        "min_interval": "00:10:00", "max_interval": "06:00:00",
    },
    "/admin/articles/category/add/": {"name": "Fuzz", "slug": "fuzz"},
    "/admin/articles/source/preview/": {"url": "not a url"},
    "/admin/articles/source/": {"action": "pause", "_selected_action": "1", "index": "0"},
    "/admin/articles/article/{article}/change/": {
        "title": "Edited", "author": "", "published_at_0": "2026-01-01",
        "published_at_1": "10:00:00", "lead_image_url": "", "summary": "", "body_html": "",
    },
}


def targets(queries, forms):
    found = [("get", path, name) for path, names in queries.items() for name in names]
    found += [("post", path, name) for path, fields in forms.items() for name in fields]
    return found


@pytest.fixture
def site(django_user_model):
    category = make_category(slug="world")
    source = make_source(slug="gazette", category=category)
    article = make_article(source=source, slug="harbour")
    story = make_story(article, make_article())
    reader = django_user_model.objects.create_user("reader", password="a long passphrase 1")
    return {
        "source": source.slug, "category": category.slug, "article": article.slug,
        "story": story.pk, "article_id": article.pk, "reader": reader,
    }


def fill(template, site):
    return template.format(
        source=site["source"], category=site["category"], article=site["article"],
        story=site["story"],
    ).replace("/article/harbour/", f"/article/{site['article_id']}/")


FUZZ = settings(
    max_examples=200, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check(client, site, forms, target, value):
    method, template, name = target
    path = fill(template, site)
    if method == "get":
        response = client.get(path, {name: value})
    else:
        response = client.post(path, {**forms[template], name: value})
    assert response.status_code < 500, (method, path, name, value[:80], response.status_code)


@FUZZ
@given(target=st.sampled_from(targets(PUBLIC_QUERIES, PUBLIC_FORMS)), value=BAD_VALUES)
def test_public_site_never_answers_5xx(client, site, target, value):
    client.raise_request_exception = False
    client.force_login(site["reader"])
    check(client, site, PUBLIC_FORMS, target, value)


@FUZZ
@given(target=st.sampled_from(targets(ADMIN_QUERIES, ADMIN_FORMS)), value=BAD_VALUES)
def test_admin_never_answers_5xx(admin_client, site, target, value):
    admin_client.raise_request_exception = False
    check(admin_client, site, ADMIN_FORMS, target, value)


@FUZZ
@given(
    model=st.sampled_from(["article", "source", "comment", "story", "category", "sourceimport"]),
    value=BAD_VALUES,
)
def test_admin_object_paths_never_answer_5xx(admin_client, model, value):
    admin_client.raise_request_exception = False
    response = admin_client.get(f"/admin/articles/{model}/{quote(value, safe='')}/change/")
    assert response.status_code < 500, (model, value[:80], response.status_code)
