"""The lists every page's navigation and the search form show: the categories
that have sources, all categories, and the sources by name.

Editors change them rarely, yet every page read them: three queries and
about 1.6 ms of a search page, 0.6 ms of an article page (bench/NOTES-pages.md).
Each process keeps them for the content version it last read
(articles/page_cache.py), which a change to a category or to a source's
name, slug or category bumps, and for at most MAX_AGE seconds: what a write
that sends no signal (a bulk update, SQL) can leave stale, the same bound
the page cache puts on everything an anonymous reader sees.
"""

import time
from html import escape

from django.db.models.signals import post_delete, post_save

from .models import Category, Source
from .page_cache import LIFETIME, bump_content_version, content_version
from .paths import where

MAX_AGE = LIFETIME
# The source fields a menu shows; fetches save others (health, validators).
SHOWN_SOURCE_FIELDS = frozenset({"name", "slug", "category"})
kept = {"version": None, "read_at": float("-inf"), "lists": {}}


def forget():
    kept.update(version=None, read_at=float("-inf"), lists={})


def kept_list(name, read):
    version = content_version()
    if version is None:  # no shared version yet (its cache down): nothing to key on
        return read()
    now = time.monotonic()
    if version != kept["version"] or now - kept["read_at"] > MAX_AGE:
        kept.update(version=version, read_at=now, lists={})
    lists = kept["lists"]
    if name not in lists:
        lists[name] = read()
    return lists[name]


def nav_categories():
    return kept_list("nav", lambda: list(Category.objects.filter(sources__isnull=False).distinct()))


def categories():
    return kept_list("categories", lambda: list(Category.objects.all()))


def source_choices():
    """(slug, name) of every source, by name."""
    return kept_list("sources", lambda: list(Source.objects.order_by("name").values_list("slug", "name")))


def escaped(choices):
    """(slug, slug escaped, name escaped) of (slug, name) choices, for HTML."""
    return [(slug, escape(slug), escape(name)) for slug, name in choices]


def escaped_source_choices():
    """Every source's escaped choice, by name."""
    return kept_list("escaped sources", lambda: escaped(source_choices()))


def escaped_nav_categories():
    """(pk, path escaped, name escaped) of the navigation's categories, for HTML.

    The paths depend on the script prefix and URLconf, which are part of the key.
    """
    return kept_list(
        ("escaped nav", *where()),
        lambda: [(c.pk, escape(c.get_absolute_url()), escape(c.name)) for c in nav_categories()],
    )


def escaped_categories():
    """Every category's escaped choice, by name."""
    return kept_list("escaped categories", lambda: escaped((c.slug, c.name) for c in categories()))


def category_changed(sender, **kwargs):
    bump_content_version()


def source_changed(sender, update_fields=None, **kwargs):
    if update_fields is None or SHOWN_SOURCE_FIELDS.intersection(update_fields):
        bump_content_version()


def connect_signals():
    for signal in (post_save, post_delete):
        signal.connect(category_changed, sender=Category, dispatch_uid=f"menus-category-{signal}")
        signal.connect(source_changed, sender=Source, dispatch_uid=f"menus-source-{signal}")
