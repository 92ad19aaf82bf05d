"""Hostile and broken servers, served locally: each ends in bounds with its own reason."""

import time
import tracemalloc
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.fetch import FetchError, fetch
from articles.ingest import ingest_source
from articles.models import Article
from articles.pipeline import extract_article
from tests.factories import make_source
from tests.hostile import drip, endless_redirect, gzip_bomb
from tests.localserver import Route

pytestmark = pytest.mark.django_db


def feed_outcome(server, path):
    source = make_source(feed_url=server.base + path)
    started = time.monotonic()
    result = ingest_source(source)
    elapsed = time.monotonic() - started
    source.refresh_from_db()
    return source, result, elapsed


@pytest.fixture
def short_timeout(settings):
    settings.FETCH_TIMEOUT = 2
    settings.FETCH_MAX_BYTES = 4 * 1024 * 1024


@pytest.mark.parametrize(
    "name, expected",
    [
        ("error500", "HTTP 500"),
        ("notfound", "HTTP 404"),
        ("empty", "Empty response body"),
        ("drip", "Timed out"),
        ("loop", "Too many redirects"),
        ("bomb", "Response too large"),
        ("entities", "declares XML entities"),
        ("garbage", "Not a readable feed"),
    ],
)
def test_feed_faults_end_with_a_reason(local_server, settings, short_timeout, name, expected):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + "x" * 5000 + '">]>'
        "<rss><channel><title>" + "&a;" * 5000 + "</title></channel></rss>"
    )
    local_server.add("/error500", "boom", status=500)
    local_server.add("/empty", b"", content_type="application/rss+xml")
    local_server.add("/bomb", gzip_bomb(), content_type="application/rss+xml", Content_Encoding="gzip")
    local_server.add("/entities", bomb, content_type="application/xml")
    local_server.add("/garbage", bytes(range(256)) * 50, content_type="application/xml")
    local_server.routes["/drip"] = drip
    local_server.routes.update({f"/loop/{n}": endless_redirect for n in range(20)})
    path = {"loop": "/loop/0", "notfound": "/missing"}.get(name, f"/{name}")

    tracemalloc.start()
    source, result, elapsed = feed_outcome(local_server, path)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert result.status == "failed"
    assert expected in source.last_error, source.last_error
    assert source.consecutive_failures == 1
    assert source.next_fetch_at > timezone.now()
    assert elapsed < settings.FETCH_TIMEOUT + 3
    assert peak < 64 * 1024 * 1024, f"peak memory {peak / 1e6:.0f} MB"


def test_rate_limited_feed_waits_as_asked(local_server):
    local_server.add("/feed", "slow down", status=429, Retry_After="3600")
    source = make_source(feed_url=local_server.base + "/feed")
    before = timezone.now()
    ingest_source(source)
    source.refresh_from_db()
    assert "HTTP 429" in source.last_error
    assert source.next_fetch_at - before >= timedelta(minutes=59)
    other = make_source(feed_url=local_server.base + "/other")
    assert other.next_fetch_at is None  # the wait is the one source's alone


@pytest.mark.parametrize(
    "path, body, content_type, expected",
    [
        ("/doc.pdf", b"%PDF-1.7 binary", "application/pdf", "Not an HTML page"),
        ("/blank.html", b"", "text/html", "Empty response body"),
        ("/gone.html", None, "text/html", "HTTP 404"),
    ],
)
def test_article_page_faults_fall_back_with_reason(local_server, path, body, content_type, expected):
    if body is not None:
        local_server.add(path, body, content_type=content_type)
    source = make_source(feed_url=local_server.base + "/feed")
    article = Article.objects.create(
        source=source, guid=path, url=local_server.base + path,
        canonical_url=local_server.base + path, title="T",
        published_at=timezone.now(), summary="The feed's summary of the story.",
    )
    article = extract_article(article.pk)
    assert expected in article.state_reason
    assert article.state == Article.State.READY
    assert article.body_text == "The feed's summary of the story."


def test_slow_drip_article_page_stops_at_deadline(local_server, short_timeout):
    local_server.routes["/drip.html"] = drip
    started = time.monotonic()
    with pytest.raises(FetchError) as failed:
        fetch(local_server.base + "/drip.html")
    assert "Timed out" in failed.value.reason
    assert time.monotonic() - started < 5


@pytest.mark.django_db(transaction=True)
def test_fetches_to_one_host_take_turns_within_its_slots(local_server, settings):
    """FETCH_PER_HOST bounds the fetches to one site at once, across threads (and
    processes: the slots live in the shared cache); a fetch that finds no slot free
    within its timeout gives up with a reason instead of waiting on."""
    from concurrent.futures import ThreadPoolExecutor

    from django.core.cache import caches
    from django.db import connections

    from tests.localserver import Slowed

    caches["locks"].clear()  # a cluster test's killed worker may still hold one
    settings.FETCH_PER_HOST = 2
    slowed = Slowed(0.3)
    local_server.routes["/slow"] = slowed(Route(b"ok", 200, {"Content-Type": "text/plain"}))

    def fetch_in_thread(_):
        try:
            return fetch(local_server.base + "/slow").content
        finally:
            connections.close_all()  # the slots' cache is this thread's database connection

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=5) as pool:
        assert list(pool.map(fetch_in_thread, range(5))) == [b"ok"] * 5
    assert slowed.most == 2
    # Three turns of 0.3 s, and no long wait between them.
    assert 0.9 <= time.monotonic() - started < 1.6

    caches["locks"].add("fetch-slot:127.0.0.1:0", 1, timeout=30)
    caches["locks"].add("fetch-slot:127.0.0.1:1", 1, timeout=30)
    try:
        with pytest.raises(FetchError, match="Too many fetches to 127.0.0.1 at once"):
            fetch(local_server.base + "/slow", timeout=0.3)
    finally:
        caches["locks"].clear()  # the table outlives the test: later tests fetch from 127.0.0.1
    assert slowed.most == 2 and len(local_server.requests) == 5
