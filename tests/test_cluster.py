"""A real django-q2 cluster process on PostgreSQL: duplicates and killed workers."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_q.tasks import async_task

from articles.ingest import ingest_source
from articles.models import Article
from tests.localserver import Route
from tests.factories import make_source
from tests.factories import PAGE

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def article_page(n):
    paragraphs = "".join(
        f"<p>Paragraph {p}: the council of Eastholm voted on the ferry timetable {n}, "
        "after months of complaints from commuters and shop owners on both shores.</p>"
        for p in range(6)
    )
    return PAGE.format(title=f"Ferry timetable {n}", paragraphs=paragraphs)


def serve_feed(server, count):
    items = "".join(
        f"<item><title>Ferry timetable {n}</title><link>{server.base}/a/{n}.html</link></item>"
        for n in range(count)
    )
    return server.add(
        "/feed.xml",
        f"<rss version='2.0'><channel><title>Ferries</title>{items}</channel></rss>",
        content_type="application/rss+xml",
    )


def start_cluster(tmp_path, server, workers=2):
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "FETCH_PRIVATE_ALLOWLIST": f"127.0.0.1:{server.port}",
        "Q_WORKERS": str(workers),
        "Q_TIMEOUT": "6",
        "Q_RETRY": "8",
        "EXTRACTION_LEASE": "7",
        # Tasks are signed with SECRET_KEY: the cluster must share the test's.
        "SECRET_KEY": settings.SECRET_KEY,
        "HTTPS": "0",
    }
    env.pop("REDIS_URL", None)
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=open(tmp_path / "cluster.log", "w"), stderr=subprocess.STDOUT,
    )


def stop(process, sig=signal.SIGTERM):
    """SIGTERM to the cluster's main process, which stops its children in order.

    A SIGTERM to the whole group reaches the sentinel, pusher and monitor at once,
    and django-q2 then waits for them until our 20 s run out. SIGKILL (a killed
    worker) goes to the whole group; so do stragglers after a stop.
    """
    try:
        if sig == signal.SIGTERM:
            process.send_signal(sig)
            process.wait(timeout=20)
        else:
            os.killpg(process.pid, sig)
            process.wait()
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def wait_for(condition, seconds, tmp_path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    log = (tmp_path / "cluster.log").read_text()[-3000:]
    raise AssertionError(f"condition not met in {seconds} s; cluster log:\n{log}")


def page_requests(server):
    return Counter(path for path, _headers in server.requests if path.startswith("/a/"))


def test_the_same_fetch_twice_at_once_makes_one_row_each(local_server, tmp_path):
    for n in range(5):
        local_server.add(f"/a/{n}.html", article_page(n))
    source = make_source(feed_url=serve_feed(local_server, 5))
    cluster = start_cluster(tmp_path, local_server, workers=2)
    try:
        async_task("articles.tasks.fetch_source_task", source.pk)
        async_task("articles.tasks.fetch_source_task", source.pk)
        wait_for(
            lambda: Article.objects.filter(state=Article.State.READY).count() == 5
            and Article.objects.filter(state=Article.State.PENDING).count() == 0,
            60, tmp_path,
        )
        time.sleep(2)  # let any duplicate extraction show itself
    finally:
        stop(cluster)
    assert Article.objects.count() == 5
    assert set(page_requests(local_server).values()) == {1}


def test_concurrent_ingest_in_threads_makes_one_row_each(local_server):
    """Two fetches of one feed racing in two connections: the constraints keep one row."""
    for n in range(20):
        local_server.add(f"/a/{n}.html", article_page(n))
    feed_url = serve_feed(local_server, 20)
    source = make_source(feed_url=feed_url)
    barrier = threading.Barrier(2)
    errors = []

    def run():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            ingest_source(source.__class__.objects.get(pk=source.pk))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Article.objects.count() == 20


def test_killed_worker_leaves_article_to_be_extracted_later_exactly_once(local_server, tmp_path):
    """SIGKILL mid-extraction: the lease expires, the broker redelivers, one more fetch."""
    calls = Counter()

    def slow_then_fine(handler):
        calls["page"] += 1
        if calls["page"] == 1:
            time.sleep(30)  # the worker is killed while it waits here
            return None
        return Route(article_page(0).encode(), 200, {"Content-Type": "text/html"})

    local_server.routes["/a/0.html"] = slow_then_fine
    source = make_source(feed_url=serve_feed(local_server, 1))
    ingest_source(source)
    article = Article.objects.get()

    cluster = start_cluster(tmp_path, local_server, workers=1)
    try:
        async_task("articles.tasks.extract_article_task", article.pk)
        wait_for(lambda: calls["page"] == 1, 30, tmp_path)
        article.refresh_from_db()
        assert article.state == Article.State.EXTRACTING
        stop(cluster, signal.SIGKILL)

        cluster = start_cluster(tmp_path, local_server, workers=1)
        wait_for(
            lambda: Article.objects.filter(state=Article.State.READY).exists(), 60, tmp_path
        )
        time.sleep(10)  # past another retry period: nothing runs a third time
    finally:
        stop(cluster)
    article.refresh_from_db()
    assert article.state == Article.State.READY
    assert "ferry timetable" in article.body_text
    assert calls["page"] == 2
    assert article.extraction_attempts == 2
    assert article.claimed_until is None
