"""Outages during an ingest, against the real site and a real django-q2 cluster.

    /work/venv/bin/python bench/faults.py [--scenarios redis-down-30s,...] [--articles 80]

For each scenario the database (default postgres://postgres@127.0.0.1:5432/lede_faults_bench)
is dropped, recreated and migrated and its Redis database (default
redis://127.0.0.1:6379/5) flushed. gunicorn (2 workers) and `manage.py qcluster` (2 workers,
production's configuration: Redis as broker and cache, FETCH_PER_HOST 2) reach PostgreSQL and
Redis only through TCP relays this script controls (tests/relay.py); the machine's services
themselves are never stopped. A local server serves one feed of --articles entries (each with a
few sentences of its own, the fallback) and their pages, each --latency-ms late, so that the
ingest is still running when the fault comes. A reader thread asks for the homepage and ready
articles' pages every 0.1 s throughout.

The fault comes once a third of the articles are ready:
    redis-down-30s      the Redis relay refuses connections for 30 s
    postgres-down-30s   the PostgreSQL relay refuses connections for 30 s
    worker-sigkill      one cluster worker, mid-batch, is killed with SIGKILL
    redis-and-worker    Redis down for 30 s, and a worker killed 5 s into it
then the clock runs until every article is ready with its page's own text (or --give-up
seconds after the fault). One line per scenario:
    SCENARIO articles=N lost=0 degraded=0 duplicated=0 recovered_s=0 http_5xx=0 ...
lost: articles not ready at the end (missing, pending, extracting or failed); degraded: ready
with the feed's text instead of the page's; duplicated: extra article rows plus pages fetched
more than twice; recovered_s: from the fault's end to the last article ready with its full text
(0 if none was left); related_s: the same until the last one is also related (its
links and story; unrelated: ready articles left without them at the end); http_5xx: 5xx answers to the reader, except a 503 with Retry-After while
PostgreSQL is down (counted as http_503). refetched: pages fetched twice (an interrupted
fetch is done again once).
"""

import argparse
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.processes import start, stop  # noqa: E402
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lede_faults_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"  # bench/pages.py flushes 12 and 15
SCENARIOS = ["redis-down-30s", "postgres-down-30s", "worker-sigkill", "redis-and-worker"]
OUTAGE_SECONDS = 30
WORKER = re.compile(r"ready for work at (\d+)")
PARAGRAPH = (
    "<p>Paragraph {p} of report {n}: the harbour authority said on {day} that the repairs to "
    "the northern breakwater, delayed twice by winter storms, would finish before the "
    "fishing season, and that the {n}th inspection found the new concrete sound.</p>"
)
PAGE = (
    "<html lang='en'><head><title>Harbour report {n}</title></head><body><nav>Home</nav>"
    "<article><h1>Harbour report {n}</h1><p>By Jane Reporter</p>{paragraphs}</article>"
    "<footer>Copyright</footer></body></html>"
)
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def serve(server, scenario, count, latency):
    """One feed of `count` entries and their pages, under the scenario's own paths."""
    from tests.localserver import Route, Slowed

    delayed = Slowed(latency) if latency else (lambda route: route)
    server.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    items = []
    for n in range(count):
        paragraphs = "".join(
            PARAGRAPH.format(p=p, n=n, day=DAYS[(n + p) % 7]) for p in range(8)
        )
        path = f"/{scenario}/story-{n}.html"
        body = PAGE.format(n=n, paragraphs=paragraphs).encode()
        server.routes[path] = delayed(Route(body, 200, {"Content-Type": "text/html; charset=utf-8"}))
        summary = f"The harbour repairs will finish before the season, report {n} says. " * 2
        items.append(
            f"<item><title>Harbour report {n}</title><link>{server.base}{path}</link>"
            f"<description>{summary}</description></item>"
        )
    rss = f"<rss version='2.0'><channel><title>{scenario}</title>{''.join(items)}</channel></rss>"
    return server.add(f"/{scenario}/feed.xml", rss, content_type="application/rss+xml")


def reset(database_url, redis_url, env):
    import psycopg
    import redis
    from django.db import connections

    connections.close_all()
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
                   cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "setup_schedules"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    redis.Redis.from_url(redis_url).flushdb()




def wait_until(check, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not within {seconds} s")


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Reader(threading.Thread):
    """A reader on the site: the homepage and ready articles' pages, every 0.1 s."""

    def __init__(self, base):
        super().__init__(daemon=True)
        self.base = base
        self.paths = ["/"]
        self.answers = []  # (status, retry_after, database_down)
        self.database_down = False
        self.stopping = threading.Event()

    def run(self):
        turn = 0
        while not self.stopping.is_set():
            path = self.paths[turn % len(self.paths)]
            turn += 1
            try:
                with urllib.request.urlopen(self.base + path, timeout=10) as response:
                    response.read()
                    self.answers.append((response.status, None, self.database_down))
            except urllib.error.HTTPError as error:
                self.answers.append(
                    (error.code, error.headers.get("Retry-After"), self.database_down)
                )
            except OSError:
                self.answers.append((599, None, self.database_down))  # no answer at all
            time.sleep(0.1)

    def errors(self):
        excused = sum(
            1 for status, retry_after, db_down in self.answers
            if status == 503 and retry_after and db_down
        )
        failed = sum(1 for status, _, _ in self.answers if status >= 500)
        return failed - excused, excused


def worker_pids(log_path):
    alive = []
    for pid in map(int, WORKER.findall(Path(log_path).read_text())):
        try:
            os.kill(pid, 0)
            alive.append(pid)
        except ProcessLookupError:
            pass
    return alive


def kill_a_worker(log_path):
    pids = worker_pids(log_path)
    if not pids:
        raise RuntimeError("no live worker found in the cluster log")
    os.kill(pids[-1], signal.SIGKILL)
    log(f"  SIGKILL to worker {pids[-1]}")


def outage(relay, reader=None, then=None):
    """The relay down for OUTAGE_SECONDS; `then` runs 5 s into it."""
    relay.down()
    if reader is not None:
        reader.database_down = True
    if then is not None:
        time.sleep(5)
        then()
        time.sleep(OUTAGE_SECONDS - 5)
    else:
        time.sleep(OUTAGE_SECONDS)
    relay.up()
    if reader is not None:
        reader.database_down = False


def counts(count):
    from django.db.models import Count, Q

    from articles.models import Article

    return Article.objects.aggregate(
        rows=Count("pk"),
        full=Count("pk", filter=Q(state=Article.State.READY, state_reason="")),
        ready=Count("pk", filter=Q(state=Article.State.READY)),
        related=Count("pk", filter=Q(state=Article.State.READY, story__isnull=False)),
        urls=Count("url", distinct=True),
    )


def run_scenario(scenario, args, server, relays, env, workdir):
    from django_q.tasks import async_task

    from articles.models import Article, Source

    reset(args.database_url, args.redis_url, env["direct"])
    feed = serve(server, scenario, args.articles, args.latency_ms / 1000)
    source = Source.objects.create(name=scenario, slug=scenario, feed_url=feed)
    cluster_log = workdir / f"{scenario}-cluster.log"
    cluster = start([sys.executable, "manage.py", "qcluster"], env["relayed"], cluster_log)
    web = start([sys.executable, "-m", "gunicorn", "aggregator.wsgi", "--bind",
                 f"127.0.0.1:{args.web_port}", "--workers", "2", "--log-level", "warning"],
                env["relayed"], workdir / f"{scenario}-web.log")
    reader = Reader(f"http://127.0.0.1:{args.web_port}")
    try:
        wait_until(lambda: "running." in cluster_log.read_text(), 60, "the cluster")
        wait_until(lambda: answers(reader.base + "/healthz"), 60, "the site")
        reader.start()
        server.requests.clear()
        started = time.monotonic()
        async_task("articles.tasks.fetch_source_task", source.pk)
        wait_until(lambda: counts(args.articles)["full"] >= args.articles // 3, 300,
                   "a third of the articles")
        reader.paths = ["/"] + [
            article.get_absolute_url() for article in Article.objects.filter(
                state=Article.State.READY)[:5]
        ]
        log(f"  {scenario}: fault at {time.monotonic() - started:.0f} s, "
            f"{counts(args.articles)['full']} of {args.articles} ready")
        if scenario == "redis-down-30s":
            outage(relays["redis"])
        elif scenario == "postgres-down-30s":
            outage(relays["postgres"], reader)
        elif scenario == "worker-sigkill":
            kill_a_worker(cluster_log)
        elif scenario == "redis-and-worker":
            outage(relays["redis"], then=lambda: kill_a_worker(cluster_log))
        ended = time.monotonic()
        recovered = related = None
        while time.monotonic() - ended < args.give_up:
            now = counts(args.articles)
            if recovered is None and now["full"] >= args.articles:
                recovered = time.monotonic() - ended
            if related is None and now["related"] >= args.articles:
                related = time.monotonic() - ended
            if recovered is not None and related is not None:
                break
            time.sleep(0.5)
        time.sleep(2)  # answers in flight, the last article's relating
    finally:
        reader.stopping.set()
        stop(web)
        stop(cluster)
    final = counts(args.articles)
    fetched = Counter(path for path, _ in server.requests if path.startswith(f"/{scenario}/story-"))
    http_5xx, http_503 = reader.errors()
    states = dict(Counter(Article.objects.values_list("state", flat=True)))
    reasons = Counter(Article.objects.exclude(state_reason="").values_list("state_reason", flat=True))
    if states.get("ready", 0) != args.articles or reasons:
        log(f"  states {states}; reasons {dict(reasons.most_common(3))}")
    return {
        "articles": args.articles,
        "lost": args.articles - final["ready"],
        "degraded": final["ready"] - final["full"],
        "duplicated": (final["rows"] - final["urls"]) + sum(n > 2 for n in fetched.values()),
        "recovered_s": "never" if recovered is None else round(recovered),
        "http_5xx": http_5xx,
        "http_503": http_503,
        "refetched": sum(n == 2 for n in fetched.values()),
        "related_s": "never" if related is None else round(related),
        "unrelated": final["ready"] - final["related"],
        "answers": len(reader.answers),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--articles", type=int, default=80)
    parser.add_argument("--latency-ms", type=float, default=1000,
                        help="each page answered this late (default 1000: the ingest outlasts the fault)")
    parser.add_argument("--give-up", type=float, default=300,
                        help="seconds after the fault's end before an article counts as lost")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--web-port", type=int, default=8391)
    args = parser.parse_args()
    scenarios = args.scenarios.split(",")
    if unknown := set(scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")

    from tests.localserver import LocalServer
    from tests.relay import Relay

    database, cache = urlsplit(args.database_url), urlsplit(args.redis_url)
    relays = {"postgres": Relay(database.port or 5432), "redis": Relay(cache.port or 6379)}
    server = LocalServer(keep_alive=True)
    workdir = Path(tempfile.mkdtemp(prefix="lede-faults-bench-"))
    direct = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SECRET_KEY": secrets.token_urlsafe(50),  # tasks are signed: shared with the cluster
        "HTTPS": "0",
        "DEBUG": "0",
        "VAR_DIR": str(workdir),
        "STATIC_ROOT": str(workdir / "static"),
        "FETCH_PRIVATE_ALLOWLIST": f"127.0.0.1:{server.port}",
        "FETCH_PER_HOST": "2",
        "Q_WORKERS": "2",
        "LOG_LEVEL": "INFO",  # the cluster log names each worker's pid
        "DJANGO_SETTINGS_MODULE": "aggregator.settings",
    }
    relayed = {
        **direct,
        "DATABASE_URL": database._replace(netloc=f"{database.username or 'postgres'}@127.0.0.1:"
                                          f"{relays['postgres'].port}").geturl(),
        "REDIS_URL": cache._replace(netloc=f"127.0.0.1:{relays['redis'].port}").geturl(),
    }
    os.environ.update({**direct, "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
                   cwd=ROOT, env=direct, check=True)
    print(f"# python bench/faults.py {shlex.join(sys.argv[1:])} | articles={args.articles} "
          f"latency_ms={args.latency_ms:g} outage_s={OUTAGE_SECONDS} | logs: {workdir}", flush=True)
    try:
        for scenario in scenarios:
            log(f"{scenario}")
            result = run_scenario(scenario, args, server, relays,
                                  {"direct": direct, "relayed": relayed}, workdir)
            print(scenario, " ".join(f"{key}={value}" for key, value in result.items()), flush=True)
    finally:
        for relay in relays.values():
            relay.close()
        server.close()


if __name__ == "__main__":
    main()
