"""Redis and PostgreSQL taken away (through a relay in front of the real services,
which keep running) and pages that fail for a while: nothing is lost or shown
degraded for good."""

import time
from datetime import timedelta

import pytest
import redis
from django.core.cache import caches
from django.utils import timezone

from articles import tasks
from articles.ingest import ingest_source
from articles.models import Article
from articles.outages import MAX_PAGE_RETRIES, is_outage
from articles.page_cache import SHARED_PAUSE
from articles.pipeline import extract_article
from articles.pipeline.fetching import _outage
from tests.factories import PAGE, make_source
from tests.relay import Relay

# One Redis database for the file: its tests run in one xdist worker.
pytestmark = pytest.mark.xdist_group("redis-outages")

REDIS_DB = 13  # the other Redis tests use 14


def page_of(n):
    paragraphs = "".join(
        f"<p>Paragraph {p} of report {n} about the harbour bridge repairs, which the city "
        f"council approved after a long debate about cost, traffic and safety.</p>"
        for p in range(6)
    )
    return PAGE.format(title=f"Bridge report {n}", paragraphs=paragraphs)


def serve_feed(server, count=1):
    """A feed whose entries carry a few sentences of their own (the fallback)."""
    items = []
    for n in range(count):
        url = server.add(f"/story-{n}.html", page_of(n))
        description = f"The council approved the bridge repairs, report {n} says. " * 3
        items.append(
            f"<item><title>Bridge report {n}</title><link>{url}</link>"
            f"<description>{description}</description></item>"
        )
    rss = f"<rss version='2.0'><channel><title>Small</title>{''.join(items)}</channel></rss>"
    return server.add("/feed.xml", rss, content_type="application/rss+xml")


def ingested(server, count=1):
    source = make_source(feed_url=serve_feed(server, count))
    ingest_source(source)
    return list(Article.objects.filter(source=source).order_by("pk"))


@pytest.fixture
def redis_relay(settings):
    """The caches on the real Redis, reached through a relay the test takes down."""
    try:
        redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_timeout=2).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    relay = Relay(6379)
    shared = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{relay.port}/{REDIS_DB}",
        "KEY_PREFIX": "test-outages",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    }
    settings.CACHES = {
        "default": shared,
        "locks": shared,
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                  "LOCATION": "test-outages-front"},
    }
    caches["default"].clear()
    _outage["since"] = None
    yield relay
    relay.up()
    caches["default"].clear()
    relay.close()


def test_outage_errors_are_told_from_the_pages_own():
    """Redis and database errors, also when wrapped, are outages; others are not."""
    from django.db import OperationalError
    from django_redis.exceptions import ConnectionInterrupted

    from articles.fetch import FetchError

    assert is_outage(redis.ConnectionError("refused"))
    assert is_outage(OperationalError("server closed the connection"))
    try:
        try:
            raise redis.TimeoutError("slow")
        except redis.TimeoutError as exc:
            raise ConnectionInterrupted(connection=None) from exc
    except ConnectionInterrupted as wrapped:
        assert is_outage(wrapped)
    try:
        try:
            raise OperationalError("gone")
        except OperationalError:
            raise RuntimeError("while saving")  # raised during the handling
    except RuntimeError as context:
        assert is_outage(context)
    assert not is_outage(FetchError("HTTP 404", status=404))
    assert not is_outage(ValueError("bad page"))
    assert FetchError("HTTP 503", status=503).transient
    assert FetchError("HTTP 429", status=429).transient
    assert not FetchError("HTTP 404", status=404).transient


@pytest.mark.django_db
def test_a_fetch_waits_out_a_short_redis_outage(local_server, redis_relay):
    """Redis back within OUTAGE_WAIT: the batch goes on with the page's own text."""
    import threading

    article = ingested(local_server)[0]
    redis_relay.down()
    threading.Timer(2.5, redis_relay.up).start()
    started = time.monotonic()
    assert extract_article(article.pk).state == Article.State.READY
    assert time.monotonic() - started >= 2
    article.refresh_from_db()
    assert article.state_reason == "" and article.word_count > 100


@pytest.mark.django_db
def test_redis_down_sends_the_article_back_to_pending_not_to_the_feed_text(
    local_server, redis_relay, sync_tasks, monkeypatch
):
    """The fetch slot's cache refusing connections for longer than OUTAGE_WAIT is
    not the page's failure: the article waits, its attempt given back, and gets
    its full text once Redis is back."""
    from articles.pipeline import fetching

    monkeypatch.setattr(fetching, "OUTAGE_WAIT", 1)
    article = ingested(local_server)[0]
    redis_relay.down()
    assert extract_article(article.pk).state == Article.State.PENDING
    article.refresh_from_db()
    assert article.state == Article.State.PENDING
    assert article.state_reason == "" and article.body_text == ""
    assert article.extraction_attempts == 0
    assert article.retry_at > timezone.now()
    assert not any(path.startswith("/story-") for path, _ in local_server.requests)

    redis_relay.up()
    assert tasks.retry_stalled_task() == 0  # not due yet
    Article.objects.filter(pk=article.pk).update(retry_at=timezone.now())
    assert tasks.retry_stalled_task() == 1
    article.refresh_from_db()
    assert article.state == Article.State.READY
    assert article.state_reason == "" and article.word_count > 100
    assert article.retry_at is None


@pytest.mark.django_db
def test_a_host_whose_slots_stay_taken_is_asked_later(local_server, settings):
    """Every fetch slot of the host held elsewhere: nothing was asked of the page,
    so the article waits instead of showing the feed's text."""
    settings.FETCH_PER_HOST = 1
    settings.FETCH_TIMEOUT = 1
    article = ingested(local_server)[0]
    caches["locks"].add("fetch-slot:127.0.0.1:0", 1, timeout=30)
    try:
        assert extract_article(article.pk).state == Article.State.PENDING
    finally:
        caches["locks"].delete("fetch-slot:127.0.0.1:0")
    article.refresh_from_db()
    assert article.state_reason == "" and article.retry_at is not None


@pytest.mark.parametrize("status", [503, 429])
@pytest.mark.django_db
def test_a_page_failing_for_a_while_gets_its_text_when_it_answers(
    local_server, sync_tasks, status
):
    """The feed's text is shown meanwhile; the page is fetched again on a slow
    backoff and its full text replaces the feed's."""
    article = ingested(local_server)[0]
    good = local_server.routes["/story-0.html"]
    local_server.add("/story-0.html", "busy", status=status)
    before = timezone.now()
    extract_article(article.pk)
    article.refresh_from_db()
    assert article.state == Article.State.READY
    assert "Showing the feed's own text" in article.state_reason
    assert article.page_retries == 1
    assert article.retry_at - before >= timedelta(minutes=9)
    assert tasks.retry_stalled_task() == 0  # not due yet

    local_server.routes["/story-0.html"] = good
    Article.objects.filter(pk=article.pk).update(retry_at=timezone.now())
    assert tasks.retry_stalled_task() == 1
    article.refresh_from_db()
    assert article.state == Article.State.READY
    assert article.state_reason == "" and article.word_count > 100
    assert article.retry_at is None


@pytest.mark.django_db
def test_a_page_is_retried_a_bounded_number_of_times(local_server, sync_tasks):
    article = ingested(local_server)[0]
    local_server.add("/story-0.html", "down", status=502)
    extract_article(article.pk)
    for _ in range(MAX_PAGE_RETRIES):
        Article.objects.filter(pk=article.pk).update(retry_at=timezone.now())
        assert tasks.retry_stalled_task() == 1
    article.refresh_from_db()
    assert article.page_retries == MAX_PAGE_RETRIES
    assert article.retry_at is None
    assert article.state == Article.State.READY  # the feed's text, for good
    assert "Showing the feed's own text" in article.state_reason
    assert tasks.retry_stalled_task() == 0
    fetched = [path for path, _ in local_server.requests if path == "/story-0.html"]
    assert len(fetched) == 1 + MAX_PAGE_RETRIES


@pytest.mark.django_db
def test_a_page_that_is_gone_is_not_retried(local_server):
    """A 404 is the page's own answer: the feed's text, no retry."""
    article = ingested(local_server)[0]
    del local_server.routes["/story-0.html"]
    extract_article(article.pk)
    article.refresh_from_db()
    assert "HTTP 404" in article.state_reason
    assert article.retry_at is None and article.page_retries == 0


@pytest.fixture
def site(client):
    """A client that gets the site's own answer to an error, as a browser does."""
    client.raise_request_exception = False
    return client


@pytest.mark.django_db
def test_redis_down_pages_are_still_served(site, redis_relay):
    """Cached pages from this process's copy, the others rendered afresh; /readyz
    names the cache, /healthz stays alive."""
    from articles.page_cache import local_version
    from tests.factories import make_article

    local_version.update(value=None, read_at=0.0)  # read from the shared cache, as a process does
    article = make_article()
    assert site.get("/").status_code == 200
    redis_relay.down()
    served = site.get("/")
    assert served.status_code == 200 and served.headers.get("X-Page-Cache") == "hit"
    detail = site.get(article.get_absolute_url())
    assert detail.status_code == 200 and article.title in detail.content.decode()
    assert site.get("/healthz").status_code == 200
    ready = site.get("/readyz")
    assert ready.status_code == 503 and ready.json()["down"] == ["cache"]
    redis_relay.up()
    time.sleep(SHARED_PAUSE)
    assert site.get("/readyz").json() == {"ready": True, "down": []}


@pytest.mark.django_db
def test_redis_down_comments_are_still_accepted(site, redis_relay, django_user_model):
    """The rate limit counts the comments table, so Redis is not needed to post."""
    from django.urls import reverse

    from articles.models import Comment
    from tests.factories import make_article

    article = make_article()
    site.force_login(django_user_model.objects.create_user("reader", password="a-long-pass-42"))
    redis_relay.down()
    url = reverse("articles:comment", args=[article.slug])
    assert site.post(url, {"body": "Still here."}).status_code == 302
    assert Comment.objects.get().body == "Still here."
    article.refresh_from_db()
    assert article.comment_count == 1


@pytest.fixture
def database_relay(settings):
    """This test's connections to PostgreSQL go through a relay it takes down."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the relay stands in front of PostgreSQL")
    relay = Relay(int(connection.settings_dict["PORT"] or 5432))
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = relay.port
    yield relay
    relay.up()
    connection.close()
    connection.settings_dict["PORT"] = port
    relay.close()


@pytest.mark.postgresql(reason="a relay in front of PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_database_down_cached_pages_are_served_and_others_answer_503(site, database_relay):
    from tests.factories import make_article

    article = make_article()
    assert site.get("/").status_code == 200
    database_relay.down()
    assert site.get("/").headers.get("X-Page-Cache") == "hit"
    uncached = site.get(article.get_absolute_url())
    assert uncached.status_code == 503
    assert uncached.headers["Retry-After"] == "30"
    assert "try again in a minute" in uncached.content.decode()
    assert site.get("/healthz").status_code == 200
    ready = site.get("/readyz")
    assert ready.status_code == 503 and "database" in ready.json()["down"]
    database_relay.up()
    assert site.get(article.get_absolute_url()).status_code == 200
    assert site.get("/readyz").status_code == 200


@pytest.mark.postgresql(reason="a relay in front of PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_task_that_meets_a_database_outage_runs_once_it_has_passed(
    local_server, database_relay, sync_tasks
):
    """The sweeper's scheduled run, started while PostgreSQL is away, is not lost:
    it waits and does its work when the database is back."""
    import threading

    article = ingested(local_server)[0]
    Article.objects.filter(pk=article.pk).update(discovered_at=timezone.now() - timedelta(hours=1))
    database_relay.down()
    threading.Timer(4, database_relay.up).start()
    started = time.monotonic()
    assert tasks.retry_stalled_task() == 1
    assert time.monotonic() - started >= 3
    article.refresh_from_db()
    assert article.state == Article.State.READY and article.word_count > 100


@pytest.mark.postgresql(reason="a relay in front of PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_task_whose_outage_outlasts_the_wait_is_not_swallowed(database_relay, monkeypatch):
    """With the database (here also the broker) still away after OUTAGE_WAIT,
    the task fails as an outage: django-q2 keeps it, nothing claims success."""
    from django.db import OperationalError

    from articles import outages

    monkeypatch.setattr(outages, "OUTAGE_WAIT", 1)
    monkeypatch.setattr(outages, "OUTAGE_PAUSE", 0.5)
    database_relay.down()
    with pytest.raises(OperationalError):
        tasks.poll_sources_task()


@pytest.mark.postgresql(reason="the page's route reads the lease on its own connection")
@pytest.mark.django_db(transaction=True)
def test_a_batch_keeps_its_lease_while_a_page_takes_longer(local_server, settings):
    """A short lease, renewed while the batch waits for a slow page: the article
    is never free for another worker meanwhile."""
    from django.db import connection

    settings.EXTRACTION_LEASE = 2
    article = ingested(local_server)[0]
    page = local_server.routes["/story-0.html"]
    left = []

    def slow(handler):
        time.sleep(3)
        claimed_until = Article.objects.values_list("claimed_until", flat=True).get(pk=article.pk)
        left.append((claimed_until - timezone.now()).total_seconds())
        connection.close()
        return page

    local_server.routes["/story-0.html"] = slow
    from articles.pipeline import extract_and_relate_articles

    states, _left = extract_and_relate_articles([article.pk])
    assert states == {article.pk: Article.State.READY}
    assert left and left[0] > 0, left


@pytest.mark.django_db
def test_a_killed_workers_unclaimed_articles_are_due_a_lease_later(local_server, settings):
    """A batch stamps the articles it has yet to claim; if its worker dies, they
    are due to the sweeper a lease later, not a grace period after discovery."""
    from articles.pipeline.claim import Leases

    articles = ingested(local_server, count=3)
    ids = [article.pk for article in articles]
    Leases(waiting=ids)  # the batch starts, and its worker is killed at once
    now = timezone.now()
    assert not Article.objects.stalled(now=now).filter(pk__in=ids).exists()
    later = now + timedelta(seconds=settings.EXTRACTION_LEASE + 1)
    assert set(Article.objects.stalled(now=later).values_list("pk", flat=True)) == set(ids)


@pytest.mark.django_db
def test_a_batch_holds_what_it_extracted_until_it_is_related(local_server, monkeypatch):
    """Extracted articles wait for the batch's end to be related; the batch holds
    their claims meanwhile, so the sweeper leaves them alone, and lets go after."""
    from articles.pipeline import extract_and_relate_articles, run

    ids = [article.pk for article in ingested(local_server, count=2)]
    seen = {}

    def relate_batch(article_ids, release=()):
        seen["unrelated"] = list(Article.objects.unrelated(now=timezone.now()))
        seen["held"] = Article.objects.filter(pk__in=ids, claimed_until__gt=timezone.now()).count()
        return set()  # released nothing: the batch lets go of all

    monkeypatch.setattr(run, "relate_batch", relate_batch)
    states, _ = extract_and_relate_articles(ids)
    assert set(states.values()) == {Article.State.READY}
    assert seen == {"unrelated": [], "held": 2}
    assert not Article.objects.filter(pk__in=ids, claimed_until__isnull=False).exists()
    # Not related (relating was replaced): the sweeper's, once past the grace period.
    later = timezone.now() + timedelta(minutes=1)
    assert set(Article.objects.unrelated(now=later).values_list("pk", flat=True)) == set(ids)


@pytest.mark.django_db
def test_a_feed_whose_host_is_busy_is_not_failed(local_server, settings):
    """Every fetch slot of the feed's host taken: asked again soon, no failure counted."""
    settings.FETCH_PER_HOST = 1
    settings.FETCH_TIMEOUT = 1
    source = make_source(feed_url=serve_feed(local_server))
    caches["locks"].add("fetch-slot:127.0.0.1:0", 1, timeout=30)
    try:
        result = ingest_source(source)
    finally:
        caches["locks"].delete("fetch-slot:127.0.0.1:0")
    source.refresh_from_db()
    assert result.status == "postponed"
    assert source.consecutive_failures == 0 and source.last_error == ""
    assert source.next_fetch_at - timezone.now() < timedelta(minutes=1)
    assert not Article.objects.exists()


def test_every_task_rides_out_outages():
    """A task added later must not be dropped by an outage either."""
    import inspect

    entry_points = [
        function for name, function in inspect.getmembers(tasks, inspect.isfunction)
        if name.endswith("_task") and function.__module__ == tasks.__name__
    ]
    assert len(entry_points) >= 8
    assert [f.__name__ for f in entry_points if not hasattr(f, "__wrapped__")] == []


def test_outage_retries_back_off_with_the_wait():
    """Soon after discovery, about 30 s; after hours of outage, at most a quarter hour apart."""
    from articles.outages import OUTAGE_RETRY_LONGEST, outage_retry_at

    now = timezone.now()
    soon = outage_retry_at(now, now - timedelta(seconds=20)) - now
    assert timedelta(seconds=15) <= soon <= timedelta(seconds=45)
    later = outage_retry_at(now, now - timedelta(minutes=20)) - now
    assert timedelta(minutes=2.5) <= later <= timedelta(minutes=7.5)
    long_after = outage_retry_at(now, now - timedelta(days=1)) - now
    assert OUTAGE_RETRY_LONGEST / 2 <= long_after <= OUTAGE_RETRY_LONGEST * 1.5


@pytest.mark.django_db
def test_a_batch_leaves_articles_of_a_busy_host_to_a_new_task(local_server, settings):
    """A killed worker's fetch slots outlive the wait for them by a few seconds:
    the articles that found them taken go to a new task, not to the sweeper."""
    from articles.pipeline import extract_and_relate_articles

    settings.FETCH_PER_HOST = 1
    settings.FETCH_TIMEOUT = 1
    article = ingested(local_server)[0]
    caches["locks"].add("fetch-slot:127.0.0.1:0", 1, timeout=30)
    try:
        states, left = extract_and_relate_articles([article.pk])
    finally:
        caches["locks"].delete("fetch-slot:127.0.0.1:0")
    assert states == {article.pk: Article.State.PENDING} and left == [article.pk]
    states, left = extract_and_relate_articles(left)
    assert states == {article.pk: Article.State.READY} and left == []
