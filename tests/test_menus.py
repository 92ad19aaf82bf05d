"""The navigation and search-form lists each process keeps (articles/menus.py):
an editor's change shows on the next page, a fetch's bookkeeping does not
throw them away, and a change that sends no signal shows within MAX_AGE."""

import pytest
from django.urls import reverse

from articles import menus, page_cache
from articles.models import Category, Source
from articles.sources import record_failure
from tests.factories import make_category, make_source

pytestmark = pytest.mark.django_db


def nav(client):
    return client.get(reverse("articles:feeds")).content.decode()


def test_an_editor_renaming_a_category_or_a_source_shows_on_the_next_page(client):
    category = make_category(name="Science", slug="science")
    source = make_source(name="Alpha Wire", slug="alpha", category=category)
    assert ">Science</a>" in nav(client)
    search = reverse("articles:search") + "?q=anything"
    assert ">Alpha Wire</option>" in client.get(search).content.decode()

    category.name = "Science & Health"
    category.save()  # as the admin saves it
    assert ">Science &amp; Health</a>" in nav(client)
    source.name = "Alpha Newswire"
    source.save()
    assert ">Alpha Newswire</option>" in client.get(search).content.decode()

    # A second category with a source joins the navigation; one without does not.
    make_source(category=make_category(name="Sport", slug="sport"))
    make_category(name="Empty", slug="empty")
    html = nav(client)
    assert ">Sport</a>" in html and ">Empty</a>" not in html
    Category.objects.get(slug="sport").delete()
    assert ">Sport</a>" not in nav(client)


def test_a_fetch_recording_its_outcome_keeps_the_menus(client):
    source = make_source(name="Alpha Wire", category=make_category(name="Science"))
    nav(client)
    version = page_cache.content_version()
    kept = dict(menus.kept["lists"])
    record_failure(source, "timed out")  # saves the source's health fields
    assert page_cache.content_version() == version
    assert menus.kept["lists"] == kept
    source.refresh_from_db()
    source.slug = "alpha-wire"
    source.save(update_fields=["slug"])
    assert page_cache.content_version() != version


def test_a_change_without_signals_shows_within_max_age(monkeypatch):
    make_source(category=make_category(name="Science", slug="science"))
    assert [category.name for category in menus.nav_categories()] == ["Science"]
    Category.objects.filter(slug="science").update(name="Sciences")  # no signal
    assert [category.name for category in menus.nav_categories()] == ["Science"]  # within MAX_AGE
    monkeypatch.setattr(menus, "MAX_AGE", 0)
    assert [category.name for category in menus.nav_categories()] == ["Sciences"]


def test_without_a_shared_version_the_lists_are_read_each_time(monkeypatch):
    monkeypatch.setattr(menus, "content_version", lambda: None)
    make_source(name="Alpha Wire")
    assert [name for _slug, name in menus.source_choices()] == ["Alpha Wire"]
    Source.objects.update(name="Beta Wire")
    assert [name for _slug, name in menus.source_choices()] == ["Beta Wire"]
