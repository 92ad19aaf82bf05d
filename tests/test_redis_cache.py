"""The Redis cache backend production uses (django-redis), against the real Redis on 127.0.0.1."""

import pytest
import redis
from django_redis.cache import RedisCache

# One Redis database for the file: its tests run in one xdist worker.
pytestmark = pytest.mark.xdist_group("redis-cache")

REDIS_URL = "redis://127.0.0.1:6379/14"
BACKEND = "django_redis.cache.RedisCache"


@pytest.fixture
def redis_cache():
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": "test-pooled"})
    backend.clear()
    yield backend
    backend.clear()


def test_what_the_page_cache_and_fetch_slots_rely_on(redis_cache):
    """Pickled values, add only when absent (fetch slots), incr (the content version),
    and one client for every call: no client built per cached page."""
    redis_cache.set("page", (b"<html>", {"ETag": '"x"'}), 30)
    assert redis_cache.get("page") == (b"<html>", {"ETag": '"x"'})
    assert redis_cache.add("version", 1) is True
    assert redis_cache.add("version", 5) is False
    assert redis_cache.incr("version") == 2
    redis_cache.delete("page")
    assert redis_cache.get("page") is None
    assert redis_cache.client.get_client() is redis_cache.client.get_client(write=False)


def test_missing_counter_raises_like_djangos_backend(redis_cache):
    """page_cache.bump_content_version starts a lost counter again on ValueError."""
    with pytest.raises(ValueError):
        redis_cache.incr("never-set")


@pytest.mark.django_db
def test_pages_are_kept_in_each_process_in_front_of_redis(redis_cache, client, settings):
    """A hit costs no Redis round trip; a version bump still reaches every page at once."""
    from django.core.cache import caches

    from articles.page_cache import bump_content_version
    from tests.factories import make_article

    shared = {"BACKEND": BACKEND, "LOCATION": REDIS_URL, "KEY_PREFIX": "test-pages"}
    settings.CACHES = {
        "default": shared,
        "locks": shared,
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                  "LOCATION": "test-front"},
    }
    caches["default"].clear()
    caches["pages"].clear()
    article = make_article()

    rendered = client.get("/")
    assert "X-Page-Cache" not in rendered.headers
    caches["default"].clear()  # only this process's copy is left
    from_front = client.get("/")
    assert from_front.headers["X-Page-Cache"] == "hit" and from_front.content == rendered.content

    caches["pages"].clear()  # a new process: rendered once, then shared
    assert "X-Page-Cache" not in client.get("/").headers
    caches["pages"].clear()
    assert client.get("/").headers["X-Page-Cache"] == "hit"  # from Redis, copied here
    caches["default"].clear()
    assert client.get("/").headers["X-Page-Cache"] == "hit"

    article.title = "A corrected headline"
    article.save()
    bump_content_version()
    fresh = client.get("/")
    assert "X-Page-Cache" not in fresh.headers
    assert "A corrected headline" in fresh.content.decode()
    caches["default"].clear()
