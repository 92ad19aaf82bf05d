"""Freshness: from an entry's publication to its article page showing the extracted text.

    .venv/bin/python bench/freshness.py [--push-entries 20] [--poll-entries 3]

Runs gunicorn (2 workers) and a django-q2 cluster (2 workers) with production's Redis
broker and cache on PostgreSQL (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/lede_freshness_bench, dropped and recreated;
FRESHNESS_REDIS_URL, default redis://127.0.0.1:6379/7, flushed), the schedules of
`setup_schedules`, and on 127.0.0.1 a news site with two feeds and a WebSub hub:
- push: a feed naming the hub. The site subscribes (SITE_URL is gunicorn's address), the
  hub verifies; each new entry is then published by adding it to the feed and having the
  hub POST the feed, signed with the subscription's secret, to the callback.
- poll: a feed without a hub, polled every minute (min and max interval 60 s): its entries
  wait for the next poll.
For each entry: the time from its publication to the first GET of its article page on
gunicorn that shows a sentence of the page's text (extracted, not the feed's summary).
Prints `push p50_ms= p95_ms=` and `poll p50_s= p95_s=` (the poll part takes a few minutes:
--poll-entries 0 skips it).
"""

import argparse
import hashlib
import hmac
import os
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.processes import start, stop  # noqa: E402
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lede_freshness_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
PAGE = (
    "<!doctype html><html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
    "{paragraphs}</article></body></html>"
)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


class Site:
    """The news site: pages, two feeds (one naming the hub) and the hub itself."""

    def __init__(self, server):
        self.server = server
        self.items = {"push": [], "poll": []}
        self.subscribers = {}  # topic -> (callback, secret)
        self.verified = threading.Event()
        server.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
        server.routes["/hub"] = self.hub
        for kind in self.items:
            self.write_feed(kind)

    def feed_url(self, kind):
        return f"{self.server.base}/{kind}.xml"

    def write_feed(self, kind):
        hub = (
            f"<atom:link rel='hub' href='{self.server.base}/hub'/>"
            f"<atom:link rel='self' href='{self.feed_url(kind)}'/>"
            if kind == "push" else ""
        )
        items = "".join(
            f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
            f"<description>A short summary.</description></item>"
            for title, link in reversed(self.items[kind])
        )
        if not items:  # a feed with no entry is not read as a feed
            items = (f"<item><title>Welcome</title><link>{self.server.base}/welcome.html</link>"
                     "</item>")
        rss = ("<rss version='2.0' xmlns:atom='http://www.w3.org/2005/Atom'><channel>"
               f"<title>Bench {kind}</title>{hub}{items}</channel></rss>")
        self.server.add(f"/{kind}.xml", rss, content_type="application/rss+xml")
        return rss.encode()

    def publish(self, kind, n):
        """A new page and entry; returns (publication time, a sentence only the page has)."""
        marker = f"Harbour master {kind} {n} {secrets.token_hex(4)} confirmed the new timetable"
        paragraphs = "".join(
            f"<p>Paragraph {p} of the {kind} report {n}: the island ferry will run twice a day "
            f"from March, the council said after a long debate about cost and safety.</p>"
            for p in range(5)
        ) + f"<p>{marker}.</p>"
        title = f"Ferry timetable {kind} {n}"
        path = f"/{kind}/{n}.html"
        self.server.add(path, PAGE.format(title=title, paragraphs=paragraphs))
        self.items[kind].append((title, self.server.base + path))
        published = time.monotonic()
        body = self.write_feed(kind)
        if kind == "push":
            callback, secret = self.subscribers[self.feed_url("push")]
            signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            request = urllib.request.Request(callback, data=body, method="POST", headers={
                "Content-Type": "application/rss+xml", "X-Hub-Signature": f"sha256={signature}",
            })
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 202, response.status
        return published, marker

    def hub(self, handler):
        """The hub's endpoint: a subscription request, verified from a thread (as hubs do)."""
        from tests.localserver import Route

        _path, _headers, body = self.server.posts[-1]
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        threading.Thread(target=self.verify, args=(form,), daemon=True).start()
        return Route(b"", 202)

    def verify(self, form):
        challenge = secrets.token_hex(8)
        query = urlencode({"hub.mode": "subscribe", "hub.topic": form["hub.topic"],
                           "hub.challenge": challenge, "hub.lease_seconds": "3600"})
        with urllib.request.urlopen(f"{form['hub.callback']}?{query}", timeout=10) as response:
            if response.read().decode() == challenge:
                self.subscribers[form["hub.topic"]] = (form["hub.callback"], form["hub.secret"])
                self.verified.set()


def reset_database(url, env):
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"],
                    ["setup_schedules"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()




def wait(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise RuntimeError(f"{what}: not within {seconds} s")


def shown_at(web, link, marker, seconds):
    """When the article page of `link` on our site first shows `marker`."""
    from articles.models import Article

    def slug():
        return Article.objects.filter(url=link).values_list("slug", flat=True).first()

    path = f"/articles/{wait(slug, seconds, link)}/"

    def showing():
        try:
            with urllib.request.urlopen(web + path, timeout=10) as response:
                return marker in response.read().decode()
        except OSError:
            return False

    wait(showing, seconds, f"{link} shown")
    return time.monotonic()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--push-entries", type=int, default=20)
    parser.add_argument("--poll-entries", type=int, default=3)
    parser.add_argument("--database-url",
                        default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    args = parser.parse_args()

    from tests.localserver import LocalServer

    workdir = Path(tempfile.mkdtemp(prefix="lede-freshness-"))
    server = LocalServer()
    site = Site(server)
    port = free_port()
    web = f"http://127.0.0.1:{port}"
    env = {
        **{key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}},
        "DATABASE_URL": args.database_url,
        "REDIS_URL": os.environ.get("FRESHNESS_REDIS_URL", DEFAULT_REDIS_URL),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0", "HTTPS": "0", "ALLOWED_HOSTS": "127.0.0.1",
        "VAR_DIR": str(workdir), "STATIC_ROOT": str(workdir / "static"),
        "FETCH_PRIVATE_ALLOWLIST": f"127.0.0.1:{server.port}",
        "SITE_URL": web,
        "DJANGO_SETTINGS_MODULE": "aggregator.settings",
        "LOG_LEVEL": "WARNING",
    }
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"# python bench/freshness.py {shlex.join(sys.argv[1:])} | nproc={os.cpu_count()} "
          f"load={load} {datetime.now(UTC):%Y-%m-%d %H:%M} UTC | gunicorn 2 workers, "
          "qcluster 2 workers, Redis broker and cache", flush=True)
    reset_database(args.database_url, env)
    os.environ.update(env)
    import django

    django.setup()
    from datetime import timedelta

    from django_q.tasks import async_task

    from articles.models import Source, Subscription

    processes = [
        start([sys.executable, "manage.py", "qcluster"], {**env, "Q_WORKERS": "2", "LOG_LEVEL": "INFO"},
              workdir / "cluster.log"),
        start([sys.executable, "-m", "gunicorn", "aggregator.wsgi", "--bind", f"127.0.0.1:{port}",
               "--workers", "2", "--log-level", "warning"], env, workdir / "web.log"),
    ]
    try:
        minute = timedelta(minutes=1)
        pushed = Source.objects.create(name="Pushed", slug="pushed", feed_url=site.feed_url("push"))
        # Fetched by the schedule alone: nothing here asks for it.
        Source.objects.create(name="Polled", slug="polled", feed_url=site.feed_url("poll"),
                              min_interval=minute, max_interval=minute)
        wait(lambda: "running." in (workdir / "cluster.log").read_text() or None, 60, "cluster")
        async_task("articles.tasks.fetch_source_task", pushed.pk)
        if not site.verified.wait(60):
            raise RuntimeError(f"the hub's verification was not answered; logs in {workdir}")
        wait(lambda: Subscription.objects.filter(source=pushed, state="active").exists(), 10,
             "subscription active")
        log("subscribed; publishing pushed entries")
        push = []
        for n in range(args.push_entries):
            published, marker = site.publish("push", n)
            push.append(shown_at(web, site.items["push"][-1][1], marker, 60) - published)
            time.sleep(0.5)
        print(f"push p50_ms={statistics.median(push) * 1000:.0f} "
              f"p95_ms={percentile(push, 0.95) * 1000:.0f} entries={len(push)}", flush=True)
        if args.poll_entries:
            poll = []
            for n in range(args.poll_entries):
                # Spread over the poll interval: an entry waits for the next poll.
                time.sleep(17)
                published, marker = site.publish("poll", n)
                poll.append(shown_at(web, site.items["poll"][-1][1], marker, 240) - published)
                log(f"  polled entry {n}: {poll[-1]:.1f} s")
            print(f"poll p50_s={statistics.median(poll):.1f} p95_s={percentile(poll, 0.95):.1f} "
                  f"entries={len(poll)} interval_s=60", flush=True)
    finally:
        for process in processes:
            stop(process)
        server.close()
    log(f"logs in {workdir}")


if __name__ == "__main__":
    main()
