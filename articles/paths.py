"""Paths of the pages named by a slug, of those with no arguments, and of the
static files every page links, without reverse()'s or the manifest's walk each time.

reverse() took 22 us a call, and a list page asks it for every card's
article and source (up to 56 times a search page): here the route is
reversed once per script prefix and URLconf, with a placeholder where the
slug goes, and a plain ASCII slug (all that slugify() writes, and all that
reverse() would leave unquoted) is put in its place.
"""

import functools
import re

from django.conf import settings
from django.core.signals import setting_changed
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse

PLAIN_SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")
PLACEHOLDER = "slug-placeholder-0"


def slug_path(name, slug):
    """reverse(name, args=[slug]), the same string."""
    if not PLAIN_SLUG.match(slug):
        return reverse(name, args=[slug])
    route = _route(name, *where())
    if route is None:
        return reverse(name, args=[slug])
    head, tail = route
    return head + slug + tail


def where():
    """The cache key's part that reverse() reads from the request: prefix and URLconf."""
    return get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF


@functools.lru_cache(maxsize=64)
def _route(name, prefix, urlconf):
    # The prefix is read by reverse() itself; it is part of the key so that
    # each script prefix gets its own entry.
    path = reverse(name, args=[PLACEHOLDER], urlconf=urlconf)
    if path.count(PLACEHOLDER) != 1:
        return None
    head, _, tail = path.partition(PLACEHOLDER)
    return head, tail


def fixed_path(name):
    """reverse(name) of a route without arguments, the same string: every page
    names about ten of them (the header's and footer's links)."""
    return _fixed(name, *where())


@functools.lru_cache(maxsize=64)
def _fixed(name, prefix, urlconf):
    return reverse(name, urlconf=urlconf)


@functools.lru_cache(maxsize=64)
def static_path(path):
    """{% static path %}, the same string, worked out once per process: the
    manifest's lookup and urljoin took 28% of base.html's render, which
    every page pays four times over (bench/NOTES-pages.md)."""
    return static(path)


def forget_static_paths(setting, **kwargs):
    if setting in ("STATIC_URL", "STORAGES", "STATIC_ROOT"):
        static_path.cache_clear()


setting_changed.connect(forget_static_paths, dispatch_uid="paths-static")
