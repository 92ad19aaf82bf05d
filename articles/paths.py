"""Paths of the pages named by a slug, and of those with no arguments, without
reverse()'s walk each time.

reverse() took 22 us a call, and a list page asks it for every card's
article and source (up to 56 times a search page): here the route is
reversed once per script prefix and URLconf, with a placeholder where the
slug goes, and a plain ASCII slug (all that slugify() writes, and all that
reverse() would leave unquoted) is put in its place.
"""

import functools
import re

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

PLAIN_SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")
PLACEHOLDER = "slug-placeholder-0"


def slug_path(name, slug):
    """reverse(name, args=[slug]), the same string."""
    if not PLAIN_SLUG.match(slug):
        return reverse(name, args=[slug])
    route = _route(name, *_where())
    if route is None:
        return reverse(name, args=[slug])
    head, tail = route
    return head + slug + tail


def _where():
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
    return _fixed(name, *_where())


@functools.lru_cache(maxsize=64)
def _fixed(name, prefix, urlconf):
    return reverse(name, urlconf=urlconf)
