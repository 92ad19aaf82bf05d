"""The Redis cache backend production uses, against the real Redis on 127.0.0.1."""

import pytest
import redis

from aggregator.redis_cache import PooledRedisCache

REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_cache():
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    backend = PooledRedisCache(REDIS_URL, {"KEY_PREFIX": "test-pooled"})
    backend.clear()
    yield backend
    backend.clear()


def test_cache_operations_work_and_share_one_client(redis_cache):
    redis_cache.set("page", (b"<html>", {"ETag": '"x"'}), 30)
    assert redis_cache.get("page") == (b"<html>", {"ETag": '"x"'})
    assert redis_cache.add("version", 1) is True
    assert redis_cache.add("version", 5) is False
    assert redis_cache.incr("version") == 2
    redis_cache.delete("page")
    assert redis_cache.get("page") is None
    client = redis_cache._cache
    assert client.get_client() is client.get_client(write=True)
    assert len(client._pools) == 1


def test_missing_counter_raises_like_djangos_backend(redis_cache):
    with pytest.raises(ValueError):
        redis_cache.incr("never-set")
