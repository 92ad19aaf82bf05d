"""Whole-page cache for anonymous readers, invalidated when content changes.

Keys carry a content version that moderation, comments and new articles bump,
so a hidden article leaves every cached page at once; the short lifetime
bounds how long anything else can be stale. Signed-in readers (session
cookie) and pending messages are never served from or stored in the cache.

When an entry's lifetime ends, the first request to claim its renewal
renders the page again while the others are served the old copy for the
moment that takes (stale-while-revalidate within one content version: a
moderation bump still changes every key at once). Before this, every request
behind the renewing one on its worker waited for the render: the p99 of a
cached homepage at 1,000,000 articles was 95.6 ms, 17.0 after (bench/pages.py).
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpResponse
from django.utils.cache import patch_cache_control, set_response_etag

from .outages import is_outage

logger = logging.getLogger(__name__)
LIFETIME = 60
# How long past its lifetime an entry may still be served while one request
# renews it, and how long that request's claim lasts if it never stores.
GRACE = 30
RENEWAL_CLAIM = 10
# New articles bump the version at most this often per process: a burst of
# extractions then costs a few bumps, not one shared-cache write each. A
# skipped bump is left due in the shared cache, and the first process to read
# the version after that makes it (read_shared_version): the new article
# shows within the interval and a second or two, not a page's LIFETIME.
NEW_CONTENT_BUMP_INTERVAL = 5.0
VERSION_KEY = "page-cache-version"
# When the bump a new article skipped is due (wall clock: processes on other
# machines read it too).
PENDING_KEY = "page-cache-version-bump-due"
NEVER_CACHED = ("/admin/", "/accounts/", "/saved/", "/sw.js", "/healthz", "/readyz", "/media/", "/websub/")
# After the shared cache failed, this process leaves it alone for a while:
# every request would otherwise wait for its own refused connection.
SHARED_PAUSE = 2.0


# The version lives in the "locks" cache, which every process shares (Redis,
# or the database on the embedded default where "default" is per-process
# locmem). It is read at most once a second per process:
# a cache hit then costs one round trip, and other processes see a bump
# within a second.
local_version = {"value": None, "read_at": 0.0, "new_content_bumped_at": None}
shared_state = {"down_until": 0.0}


def from_shared(call, default=None):
    """call() on the shared cache, or `default` while it is down (Redis, or the
    database on the embedded default): pages are then served from this
    process's copy or rendered afresh, never answered with an error."""
    if time.monotonic() < shared_state["down_until"]:
        return default
    try:
        return call()
    except Exception as exc:
        if not is_outage(exc):
            raise
        if not shared_state["down_until"]:
            logger.warning("The shared cache is down; pages are served without it: %r", exc)
        shared_state["down_until"] = time.monotonic() + SHARED_PAUSE
        return default


def fresh_version():
    # A lost counter restarts from the clock, never from a number whose
    # pages may still sit in the cache.
    return int(time.time() * 1000)


def content_version():
    """The shared version, read at most once a second; while the shared cache
    is down, the last one read (None if there is none: nothing is cached)."""
    now = time.monotonic()
    if local_version["value"] is None or now - local_version["read_at"] > 1.0:
        version = from_shared(read_shared_version)
        if version is not None:
            local_version.update(value=version, read_at=now)
    return local_version["value"]


def read_shared_version():
    shared = caches["locks"]
    found = shared.get_many([VERSION_KEY, PENDING_KEY])  # one round trip
    version = found.get(VERSION_KEY)
    if version is None:
        shared.add(VERSION_KEY, fresh_version(), timeout=None)
        version = shared.get(VERSION_KEY)
    due = found.get(PENDING_KEY)
    # Only the process that deletes the key bumps: one bump for a burst.
    if due is not None and time.time() >= due and shared.delete(PENDING_KEY):
        version = increment_shared_version()
    return version


def bump_content_version():
    """A new version for every process; while the shared cache is down, one
    for this process only (the others' copies expire within LIFETIME)."""
    version = from_shared(increment_shared_version)
    if version is None and local_version["value"] is not None:
        version = local_version["value"] + 1
    local_version.update(value=version, read_at=time.monotonic())


def increment_shared_version():
    shared = caches["locks"]
    try:
        return shared.incr(VERSION_KEY)
    except ValueError:
        shared.add(VERSION_KEY, fresh_version(), timeout=None)
        return shared.get(VERSION_KEY)


def bump_content_version_for_new_article():
    """Bump, unless this process did so for a new article in the last few seconds.

    Moderation and comments call bump_content_version(): a hidden article must
    leave the cache at once, while a new one may wait a few seconds.
    """
    now = time.monotonic()
    bumped_at = local_version["new_content_bumped_at"]
    if bumped_at is not None and now - bumped_at < NEW_CONTENT_BUMP_INTERVAL:
        due = time.time() + NEW_CONTENT_BUMP_INTERVAL - (now - bumped_at)
        # add: the earliest due bump stands; it lapses if no process reads the
        # version meanwhile (pages then expire within LIFETIME, as before).
        from_shared(lambda: caches["locks"].add(PENDING_KEY, due, timeout=LIFETIME))
        return False
    bump_content_version()
    # A bump due from a skip (this process's or another's) is made by this one.
    from_shared(lambda: caches["locks"].delete(PENDING_KEY))
    local_version["new_content_bumped_at"] = now
    return True


def process_front():
    """The per-process cache in front of a shared one, if configured."""
    return caches["pages"] if "pages" in settings.CACHES else None


def age(entry):
    return time.time() - entry[2]


def cached_page(key):
    """(content, headers, stored_at) from this process, else from the shared cache.

    A copy kept here lives only as long as the shared entry had left, and its
    key carries the content version, so it is never staler than the shared one.
    An expired copy here is checked against the shared cache, which another
    process may have renewed.
    """
    front = process_front()
    entry = front.get(key) if front is not None else None
    if entry is None or age(entry) >= LIFETIME:
        shared = from_shared(lambda: cache.get(key))
        if shared is not None and (entry is None or shared[2] > entry[2]):
            entry = shared
            remaining = LIFETIME + GRACE - age(entry)
            if front is not None and remaining > 0:
                front.set(key, entry, remaining)
    return entry


def page_key(version, method, full_path):
    path = hashlib.sha1(full_path.encode()).hexdigest()
    # "page2": entries carry their storing time; older entries are never read.
    return f"page2:{version}:{method}:{path}"


def claim_renewal(key):
    """Whether this request renders the expired page again (one request does)."""
    return from_shared(lambda: cache.add(f"{key}:renewal", 1, RENEWAL_CLAIM), default=True)


def store_page(key, content, headers):
    entry = (content, headers, time.time())
    from_shared(lambda: cache.set(key, entry, LIFETIME + GRACE))
    front = process_front()
    if front is not None:
        front.set(key, entry, LIFETIME + GRACE)


def cacheable_request(request):
    return (
        request.method in ("GET", "HEAD")
        and not request.path.startswith(NEVER_CACHED)
        and "sessionid" not in request.COOKIES
        and "messages" not in request.COOKIES
    )


class AnonymousPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not cacheable_request(request):
            return self.get_response(request)
        version = content_version()
        if version is None:  # never read, and the shared cache is down
            return self.get_response(request)
        key = page_key(version, request.method, request.get_full_path())
        cached = cached_page(key)
        cached_age = age(cached) if cached is not None else None
        if cached is not None and (cached_age < LIFETIME or not claim_renewal(key)):
            content, headers, _stored_at = cached
            response = HttpResponse(content, headers=headers)
            response["X-Page-Cache"] = "hit" if cached_age < LIFETIME else "stale"
            # Shared caches and browsers count max-age from the render.
            response["Age"] = str(int(cached_age))
            return response
        response = self.get_response(request)
        if (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and "private" not in response.get("Cache-Control", "")
        ):
            patch_cache_control(response, public=True, max_age=LIFETIME)
            # Hashed once here rather than by ConditionalGetMiddleware on every hit.
            set_response_etag(response)
            headers = {
                name: value
                for name, value in response.items()
                if name.lower() in ("content-type", "cache-control", "last-modified",
                                    "content-language", "etag")
            }
            store_page(key, response.content, headers)
        return response
