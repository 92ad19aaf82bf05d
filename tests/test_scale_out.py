"""More than one machine: two web instances and two clusters on one PostgreSQL and one Redis."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from articles.models import Article
from articles.page_cache import LIFETIME, NEW_CONTENT_BUMP_INTERVAL
from tests.factories import PAGE, make_source
from tests.localserver import Slowed

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.postgresql(reason="processes share one PostgreSQL, as machines would"),
    pytest.mark.xdist_group("redis-scale-out"),
]
# A Redis database of its own: no other test or bench flushes or reads it.
REDIS_URL = os.environ.get("SCALE_OUT_REDIS_URL", "redis://127.0.0.1:6379/10")
ARTICLES = 12


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def page(n):
    paragraphs = "".join(
        f"<p>Paragraph {p}: the lighthouse keepers of Skarn report {n} on the winter storms "
        "that closed the northern harbour and cut the island's ferry for a week.</p>"
        for p in range(6)
    )
    return PAGE.format(title=f"Skarn report {n}", paragraphs=paragraphs)


def serve(server, count):
    slowed = Slowed(0.2)  # a page takes a moment, so that both clusters find work
    for n in range(count):
        server.add(f"/a/{n}.html", page(n))
        server.routes[f"/a/{n}.html"] = slowed(server.routes[f"/a/{n}.html"])
    items = "".join(
        f"<item><title>Skarn report {n}</title><link>{server.base}/a/{n}.html</link></item>"
        for n in reversed(range(count))
    )
    return server.add("/feed.xml", f"<rss version='2.0'><channel><title>Skarn</title>{items}"
                      "</channel></rss>", content_type="application/rss+xml")


def environment(tmp_path, server):
    db = connection.settings_dict
    return {
        **{key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}},
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": REDIS_URL,
        # Tasks are signed with SECRET_KEY: every process shares the test's.
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "0", "HTTPS": "0", "ALLOWED_HOSTS": "127.0.0.1",
        "VAR_DIR": str(tmp_path), "STATIC_ROOT": str(tmp_path / "static"),
        "FETCH_PRIVATE_ALLOWLIST": f"127.0.0.1:{server.port}",
        "FETCH_PER_HOST": "8",
        "Q_WORKERS": "1",
        "EXTRACT_BATCH": "2",
        "LOG_LEVEL": "INFO",  # each cluster's log names the tasks it ran
    }


def start(command, env, log):
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)


def enqueue_fetch(env, source_id):
    """Through the clusters' broker (Redis), as the poll schedule would."""
    code = f"from django_q.tasks import async_task; async_task('articles.tasks.fetch_source_task', {source_id})"
    subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True)


def stop(process):
    """SIGTERM to the main process (a cluster stops its children in order), then
    SIGKILL to whatever of its group is left."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def wait_for(condition, seconds, logs):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.2)
    tails = "\n".join(f"{log}:\n{log.read_text()[-2000:]}" for log in logs)
    raise AssertionError(f"condition not met in {seconds} s\n{tails}")


def test_two_web_instances_and_two_clusters_share_one_database_and_redis(local_server, tmp_path):
    """A feed's articles are ingested once (each page fetched once), spread over both
    clusters; a new article shows on both web instances within the page-cache window."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = environment(tmp_path, local_server)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                   cwd=ROOT, env=env, check=True)
    source = make_source(feed_url=serve(local_server, ARTICLES))
    ports = [free_port(), free_port()]
    logs = [tmp_path / name for name in ("cluster-a.log", "cluster-b.log", "web-a.log", "web-b.log")]
    processes = [start([sys.executable, "manage.py", "qcluster"], env, log) for log in logs[:2]]
    processes += [
        start([sys.executable, "-m", "gunicorn", "aggregator.wsgi", "--bind", f"127.0.0.1:{port}",
               "--workers", "1", "--log-level", "warning"], env, log)
        for port, log in zip(ports, logs[2:])
    ]
    webs = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        wait_for(lambda: all("running." in log.read_text() for log in logs[:2]), 40, logs)

        def answering():
            try:
                return all(get(web + "/healthz") == "ok" for web in webs)
            except OSError:
                return False

        wait_for(answering, 30, logs)
        enqueue_fetch(env, source.pk)
        wait_for(
            lambda: Article.objects.filter(state=Article.State.READY, story__isnull=False).count()
            == ARTICLES,
            60, logs,
        )
        assert Article.objects.count() == ARTICLES
        fetched = [path for path, _ in local_server.requests if path.startswith("/a/")]
        assert sorted(fetched) == sorted(f"/a/{n}.html" for n in range(ARTICLES))
        ran = [len(re.findall(r"processing .*extract_articles_task", log.read_text()))
               for log in logs[:2]]
        assert all(ran), f"extraction tasks run by each cluster: {ran}"

        # The source's page lists each of its articles (the homepage, each story once).
        listing = source.get_absolute_url()
        pages = [get(web + listing) for web in webs]  # now in the page cache
        assert all("Skarn report 0" in html for html in pages)
        local_server.add(f"/a/{ARTICLES}.html", page("extra"))
        serve_items = local_server.routes["/feed.xml"].body.replace(
            b"<item>", f"<item><title>Skarn late edition</title>"
                       f"<link>{local_server.base}/a/{ARTICLES}.html</link></item><item>".encode(), 1
        )
        local_server.routes["/feed.xml"].body = serve_items
        enqueue_fetch(env, source.pk)
        ready = wait_for(
            lambda: Article.objects.filter(title="Skarn late edition", state=Article.State.READY,
                                           story__isnull=False).exists(),
            30, logs,
        )
        # The new article's own bump is often skipped (its worker bumped for the
        # first articles within NEW_CONTENT_BUMP_INTERVAL); the first web process
        # to read the version once it is due makes it. Without that, the page
        # cached just before showed it when its LIFETIME ended, 59.5 s after
        # `ready`; with it, 4.3 s. The rest of the bound: the version is read once
        # a second per process, and both times are seen by 0.2 s polls.
        shown = wait_for(
            lambda: all("Skarn late edition" in get(web + listing) for web in webs), LIFETIME + 1, logs
        )
        assert shown - ready <= NEW_CONTENT_BUMP_INTERVAL + 5
    finally:
        for process in processes:
            stop(process)
