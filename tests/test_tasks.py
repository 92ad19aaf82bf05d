import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from articles import tasks
from articles.models import Article, RelatedLink, SearchEntry
from tests.factories import make_source
from tests.localserver import LocalServer, Slowed
from tests.factories import serve_small_feed


@pytest.mark.django_db
def test_poll_fetches_due_sources_then_extracts_and_relates(local_server, sync_tasks):
    """poll -> fetch_source -> extract_article (which also relates), each its own task."""
    due = make_source(feed_url=serve_small_feed(local_server, count=3))
    make_source(next_fetch_at=timezone.now() + timedelta(hours=1))
    assert tasks.poll_sources_task() == 1
    assert Article.objects.filter(source=due, state=Article.State.READY).count() == 3
    assert RelatedLink.objects.count() > 0
    due.refresh_from_db()
    assert due.next_fetch_at > timezone.now()
    assert tasks.poll_sources_task() == 0


@pytest.mark.django_db
def test_tasks_are_harmless_to_repeat(local_server, sync_tasks):
    source = make_source(feed_url=serve_small_feed(local_server, count=2))
    tasks.fetch_source_task(source.pk)
    tasks.fetch_source_task(source.pk)
    article = Article.objects.first()
    assert tasks.extract_article_task(article.pk) == "not claimed"
    tasks.relate_article_task(article.pk)
    tasks.relate_article_task(article.pk)
    assert Article.objects.count() == 2
    assert RelatedLink.objects.filter(from_article=article).count() == 1
    assert tasks.fetch_source_task(10**9) == "gone"


@pytest.mark.django_db
def test_stalled_articles_are_retried(local_server, sync_tasks):
    source = make_source(feed_url=serve_small_feed(local_server, count=1))
    from articles.ingest import ingest_source

    ingest_source(source)  # rows created, but their tasks were lost
    Article.objects.update(discovered_at=timezone.now() - timedelta(minutes=10))
    assert tasks.retry_stalled_task() == 1
    assert Article.objects.get().state == Article.State.READY
    assert tasks.retry_stalled_task() == 0


def page_requests(server):
    return [path for path, _headers in server.requests if path.startswith("/story-")]


@pytest.mark.django_db
def test_one_task_per_article_extracts_then_relates(local_server, sync_tasks):
    """Text, key points, search vector, fingerprint, links and story, all from one task
    (no key points here: every paragraph of these pages repeats the first)."""
    source = make_source(feed_url=serve_small_feed(local_server, count=2))
    tasks.fetch_source_task(source.pk)
    first, second = Article.objects.order_by("pk")
    assert {first.state, second.state} == {Article.State.READY}
    for article in (first, second):
        assert article.story_id and article.key_points == [] and article.fingerprint
        if connection.vendor == "postgresql":  # SQLite searches the columns themselves
            vector = SearchEntry.objects.get(article=article).vector
            assert "harbour" in vector
    assert RelatedLink.objects.filter(from_article=first, to_article=second).exists()


@pytest.mark.django_db
def test_a_page_is_extracted_once_however_often_its_task_runs(local_server, sync_tasks):
    source = make_source(feed_url=serve_small_feed(local_server, count=2))
    tasks.fetch_source_task(source.pk)
    for article in Article.objects.all():
        assert tasks.extract_article_task(article.pk) == "not claimed"
    tasks.retry_stalled_task()
    assert sorted(page_requests(local_server)) == ["/story-0.html", "/story-1.html"]


@pytest.mark.django_db
def test_redelivered_task_relates_an_article_left_unrelated(local_server, monkeypatch):
    """The worker died between extracting and relating: the redelivered task relates, once."""
    from articles.pipeline import relating

    source = make_source(feed_url=serve_small_feed(local_server, count=1))
    tasks.fetch_source_task(source.pk)
    article = Article.objects.get()

    def killed(article_id):
        raise SystemExit("worker killed")

    monkeypatch.setattr(relating, "relate_article", killed)
    with pytest.raises(SystemExit):
        tasks.extract_article_task(article.pk)
    monkeypatch.undo()
    article.refresh_from_db()
    assert article.state == Article.State.READY and article.story_id is None

    assert tasks.extract_article_task(article.pk) == Article.State.READY
    article.refresh_from_db()
    assert article.story_id is not None
    assert tasks.extract_article_task(article.pk) == "not claimed"
    assert page_requests(local_server) == ["/story-0.html"]


@pytest.mark.django_db
def test_an_article_whose_relating_failed_is_related_by_the_sweeper(local_server, sync_tasks):
    """Its task failed after extracting (a deadlock, say): no redelivery, the sweeper relates it."""
    from articles.pipeline import extract_article
    from articles.ingest import ingest_source

    source = make_source(feed_url=serve_small_feed(local_server, count=1))
    ingest_source(source)
    article = extract_article(Article.objects.get().pk)  # the task's first step only
    assert article.state == Article.State.READY and article.story_id is None
    assert tasks.retry_stalled_task() == 0  # its task still holds the claim: it may still relate

    # The task died: its claim ran out.
    Article.objects.update(
        extracted_at=timezone.now() - timedelta(minutes=10),
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    assert tasks.retry_stalled_task() == 1
    article.refresh_from_db()
    assert article.story_id is not None
    assert tasks.retry_stalled_task() == 0
    assert page_requests(local_server) == ["/story-0.html"]


@pytest.mark.django_db
def test_the_sweeper_stops_relating_an_article_that_always_fails(
    local_server, sync_tasks, monkeypatch, caplog
):
    """A bounded outcome: MAX_RELATING_ATTEMPTS re-enqueues, a warning, and "extract
    again" gives new attempts; the article stays shown meanwhile, without a story."""
    from articles.ingest import ingest_source
    from articles.models import MAX_RELATING_ATTEMPTS
    from articles.pipeline import extract_article, relating

    source = make_source(feed_url=serve_small_feed(local_server, count=1))
    ingest_source(source)
    article = extract_article(Article.objects.get().pk)
    calls = []

    def broken(article_ids, release=()):
        calls.append(article_ids)
        raise RuntimeError("relating bug")

    monkeypatch.setattr(relating, "relate_articles", broken)
    for attempt in range(1, MAX_RELATING_ATTEMPTS + 1):
        Article.objects.update(
            extracted_at=timezone.now() - timedelta(minutes=10),
            claimed_until=timezone.now() - timedelta(seconds=1),
        )
        with pytest.raises(RuntimeError):  # inline here; the cluster records the failure
            tasks.retry_stalled_task()
        assert len(calls) == attempt
    assert "get their last attempt to be related" in caplog.text
    assert tasks.retry_stalled_task() == 0
    assert len(calls) == MAX_RELATING_ATTEMPTS
    article.refresh_from_db()
    assert article.state == Article.State.READY and article.story_id is None
    assert article.relating_attempts == MAX_RELATING_ATTEMPTS
    assert list(Article.objects.visible()) == [article]

    monkeypatch.undo()
    tasks.extract_article_task(article.pk, force=True)  # the admin's "extract again"
    article.refresh_from_db()
    assert article.story_id is not None and article.relating_attempts == 0


@pytest.mark.django_db
def test_extraction_takes_eight_statements(local_server):
    """Claim and read (2), the shared per-host fetch slot (4), the lookup of an
    article extracted from the same bytes (1), one save with its search vector.

    Relating is counted in test_related; robots.txt is read once per host.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from articles.pipeline import extract_article

    source = make_source(feed_url=serve_small_feed(local_server, count=3))
    tasks.fetch_source_task(source.pk)
    for n, article in enumerate(Article.objects.order_by("pk")):
        with CaptureQueriesContext(connection) as context:
            assert extract_article(article.pk).state == Article.State.READY
        statements = [q["sql"] for q in context.captured_queries if "SAVEPOINT" not in q["sql"]]
        if n:
            assert len(statements) == 8, statements


def test_a_feeds_new_articles_go_out_in_batches_one_per_worker_at_least(settings):
    settings.EXTRACT_BATCH = 10
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 2}
    assert tasks.extraction_batches([]) == []
    assert tasks.extraction_batches([7]) == [[7]]
    assert tasks.extraction_batches([1, 2, 3]) == [[1, 2], [3]]
    batches = tasks.extraction_batches(range(25))
    assert [len(batch) for batch in batches] == [9, 9, 7]
    assert [pk for batch in batches for pk in batch] == list(range(25))


@pytest.mark.postgresql(reason="pages are fetched in threads on PostgreSQL only; SQLite has one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_a_batch_fetches_in_its_own_threads_and_connections(local_server, settings):
    """Outside a transaction, on PostgreSQL, pages are fetched in fetching threads
    and the batch is related together: every article ends related; the threads'
    connections (the fetch slots live in the database here) outlive the batch
    and are closed when the threads stop."""
    from django.db import connection

    from articles import pipeline
    from articles.pipeline import fetching

    def backends():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]

    from articles.ingest import ingest_source

    settings.FETCH_PER_BATCH = 3
    source = make_source(feed_url=serve_small_feed(local_server, count=3))
    ids = ingest_source(source).new_article_ids
    before = backends()
    assert tasks.extract_articles_task(ids) == "3 of 3 ready"
    articles = list(Article.objects.order_by("pk"))
    assert [article.state for article in articles] == [Article.State.READY] * 3
    assert all(article.story_id for article in articles)
    assert RelatedLink.objects.filter(from_article=articles[0]).count() == 2
    assert len(fetching._fetchers) == 3
    assert backends() == before + 3
    pipeline.stop_pipeline_threads()
    # A closed connection's backend leaves pg_stat_activity a moment later.
    deadline = time.monotonic() + 5
    while backends() != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backends() == before


def slow_pages(server, count, seconds):
    """`count` article pages that each take `seconds` to arrive: the feed's URL and
    the Slowed that counts their requests in flight."""
    slowed = Slowed(seconds)
    feed = serve_small_feed(server, count=count)
    for path, route in list(server.routes.items()):
        if path.startswith("/story-"):
            server.routes[path] = slowed(route)
    return feed, slowed


@pytest.mark.django_db(transaction=True)
def test_a_batch_fetches_its_next_pages_while_it_extracts(local_server, settings):
    """A page from a real site takes longer to arrive than to extract: a batch has
    FETCH_PER_BATCH pages on their way at once, within the per-host limit. Past
    its time it claims nothing more, and finishes what it claimed."""
    from django.core.cache import caches

    from articles.ingest import ingest_source
    from articles.pipeline import extract_and_relate_articles

    # Slots are per host name: a worker that a cluster test killed mid-fetch may
    # still hold one to 127.0.0.1 until it expires.
    caches["locks"].clear()
    settings.FETCH_PER_BATCH = 3
    settings.FETCH_PER_HOST = 3
    feed, slowed = slow_pages(local_server, count=11, seconds=0.8)
    ids = ingest_source(make_source(feed_url=feed)).new_article_ids
    states, left = extract_and_relate_articles(ids[:4])
    assert states == {pk: Article.State.READY for pk in ids[:4]} and left == []
    assert slowed.most == 3
    assert sorted(page_requests(local_server)) == [f"/story-{n}.html" for n in range(4)]

    # The first three are claimed at once; the first page arrives after the
    # batch's time, so the fourth is left for a new task.
    states, left = extract_and_relate_articles(ids[4:8], seconds=0.2)
    assert list(states) == ids[4:7] and left == ids[7:8]

    slowed.most = 0
    settings.FETCH_PER_HOST = 2
    states, left = extract_and_relate_articles(ids[8:])
    assert slowed.most == 2  # the third page waited for a slot on the same host
    assert Article.objects.filter(state=Article.State.READY).count() == 10


@pytest.mark.django_db
def test_a_batch_past_its_time_hands_the_rest_to_a_new_task(local_server, sync_tasks, settings):
    """Each batch starts at least one article, so even a batch out of time at once
    makes progress; the rest goes to a new task (run inline here)."""
    settings.EXTRACT_BATCH_SECONDS = -1
    source = make_source(feed_url=serve_small_feed(local_server, count=3))
    from articles.ingest import ingest_source

    ids = ingest_source(source).new_article_ids
    assert tasks.extract_articles_task(ids) == "1 of 1 ready, 2 re-enqueued"
    assert Article.objects.filter(state=Article.State.READY, story__isnull=False).count() == 3


@pytest.mark.django_db
def test_pages_robots_txt_disallows_are_not_fetched(local_server, sync_tasks):
    """The disallowed page is never requested: its article shows the feed's text and
    says why. robots.txt is read once for the whole feed."""
    local_server.add(
        "/robots.txt", "User-agent: *\nDisallow: /story-1.html\n", content_type="text/plain"
    )
    source = make_source(feed_url=serve_small_feed(local_server, count=3))
    tasks.fetch_source_task(source.pk)
    allowed, disallowed, other = Article.objects.order_by("pk")
    assert page_requests(local_server) == ["/story-0.html", "/story-2.html"]
    assert [path for path, _ in local_server.requests].count("/robots.txt") == 1
    assert allowed.state == other.state == Article.State.READY and not allowed.state_reason
    assert "Disallowed by the site's robots.txt" in disallowed.state_reason


@pytest.mark.django_db
def test_a_redirect_to_a_page_robots_txt_disallows_is_not_followed(
    local_server, sync_tasks, settings
):
    """A URL that redirects to a page robots.txt disallows, on the same site or
    another, stops at the redirect, and the article says why. Reading the other
    site's robots.txt needs no fetch slot of its own: the page holds the only
    one to that host (both sites are 127.0.0.1 here)."""
    settings.FETCH_PER_HOST = 1
    local_server.add(
        "/robots.txt", "User-agent: *\nDisallow: /story-1.html\n", content_type="text/plain"
    )
    feed = serve_small_feed(local_server, count=3)
    other = LocalServer()
    settings.FETCH_PRIVATE_ALLOWLIST = [*settings.FETCH_PRIVATE_ALLOWLIST, f"127.0.0.1:{other.port}"]
    try:
        other.add("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
        other.add("/moved.html", local_server.routes["/story-2.html"].body)
        local_server.add("/old-0.html", status=301, Location="/story-1.html")
        local_server.add("/old-2.html", status=302, Location=other.base + "/moved.html")
        feed_route = local_server.routes["/feed.xml"]
        feed_route.body = feed_route.body.replace(b"/story-0.html", b"/old-0.html").replace(
            b"/story-2.html", b"/old-2.html"
        )
        tasks.fetch_source_task(make_source(feed_url=feed).pk)
    finally:
        other.close()
    same_site, disallowed, other_site = Article.objects.order_by("pk")
    assert page_requests(local_server) == []
    assert [path for path, _ in other.requests] == ["/robots.txt"]
    assert "Disallowed by the site's robots.txt" in disallowed.state_reason
    for article in (same_site, other_site):
        assert "Redirected to a page the site's robots.txt disallows" in article.state_reason


@pytest.mark.django_db(transaction=True)
def test_a_batchs_fetching_threads_read_robots_txt_once(local_server, settings):
    """With no rules cached, the pages that a batch fetches at once wait for one
    request of robots.txt between them, not one each."""
    from django.core.cache import caches

    from articles.ingest import ingest_source
    from articles.pipeline import extract_and_relate_articles

    caches["locks"].clear()  # see test_a_batch_fetches_its_next_pages_while_it_extracts
    settings.FETCH_PER_BATCH = settings.FETCH_PER_HOST = 3
    feed = serve_small_feed(local_server, count=3)
    local_server.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    slowed = Slowed(0.5)
    local_server.routes["/robots.txt"] = slowed(local_server.routes["/robots.txt"])
    ids = ingest_source(make_source(feed_url=feed)).new_article_ids
    states, _ = extract_and_relate_articles(ids)
    assert states == {pk: Article.State.READY for pk in ids}
    assert [path for path, _ in local_server.requests].count("/robots.txt") == 1
    assert sorted(page_requests(local_server)) == [f"/story-{n}.html" for n in range(3)]


@pytest.mark.django_db(transaction=True)
def test_a_relating_error_fails_the_batch_after_the_others_are_related(local_server, monkeypatch):
    """When the batch cannot be related together, each article is related on its own;
    the error reaches django-q2 (a failed task, kept for the admin) only once the rest
    of the batch is related; its article stays extracted, for the sweeper to relate."""
    from articles.ingest import ingest_source
    from articles.pipeline import relating

    source = make_source(feed_url=serve_small_feed(local_server, count=3))
    ids = ingest_source(source).new_article_ids
    relate_article = relating.relate_article

    def failing_batch(article_ids, release=()):
        raise RuntimeError("deadlock detected")

    def failing_for_the_first(article_id):
        if article_id == min(ids):
            raise RuntimeError("could not serialize access")
        return relate_article(article_id)

    monkeypatch.setattr(relating, "relate_articles", failing_batch)
    monkeypatch.setattr(relating, "relate_article", failing_for_the_first)
    with pytest.raises(RuntimeError, match="could not serialize"):
        tasks.extract_articles_task(ids)
    first, *others = Article.objects.order_by("pk")
    assert first.pk == min(ids)
    assert first.state == Article.State.READY and first.story_id is None
    assert all(article.state == Article.State.READY and article.story_id for article in others)
    assert list(Article.objects.unrelated(now=timezone.now() + timedelta(minutes=10))) == [first]
