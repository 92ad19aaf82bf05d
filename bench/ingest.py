"""End-to-end ingest throughput and worker memory: a real django-q2 cluster on PostgreSQL.

    .venv/bin/python bench/ingest.py [--articles 360] [--workers 1,2] [--sources 6] [--broker redis|orm]
    .venv/bin/python bench/ingest.py --memory-check      # 10,000 articles, 1 worker
    .venv/bin/python bench/ingest.py --latency-ms 100    # each page 100 ms late, as from afar

Serves the scrapinghub-aeb pages (../shared/corpus/extraction/scrapinghub-aeb, 181 pages,
sent gzip-encoded as stored, Content-Encoding: gzip) and RSS feeds listing them from a local
server; each page is served under several distinct URLs, so every URL is a distinct article,
and each copy's bytes differ (a comment is appended), so every article is really extracted
(the pipeline copies the extraction of byte-identical pages).
For each worker count the database (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/lede_ingest_bench) is dropped, recreated and migrated, a
`manage.py qcluster` subprocess is started (in production's configuration by default: Redis
as broker and cache, BENCH_REDIS_URL, default redis://127.0.0.1:6379/3, flushed first;
`--broker orm` runs the embedded default's ORM broker and database cache instead), one
fetch_source_task is enqueued per source and the clock runs until the last article is ready
and related (fetch_source_task, then extract_articles_task for batches of up to EXTRACT_BATCH
articles, which extracts each and relates it in the worker's relating thread), as seen by
polling the database every 0.1 s.
Where the server runs without autovacuum (as some machines here do), the bench applies
autovacuum's default thresholds itself every 2 s (class Autovacuum), as production's
PostgreSQL would; the header says which.
Prints a header comment and one line per worker count:
    workers=N articles_per_s=0.0 cpu_ms_per_article=0.0 extract_ms=0.0 cost_ratio=0.00 max_rss_mb=0
cpu_ms_per_article is the CPU of every process serving the pipeline (the cluster's processes,
the database's PostgreSQL backends but the bench's own, the PostgreSQL server's background
processes, redis-server; not the bench with its page server) over the run, divided by the
articles ingested; extract_ms is extract_page's own CPU a page (its thread's CPU time), over
the same pages on one core in the same run just before the cluster starts; cost_ratio is their
quotient (the target: 2.0 or less with two workers). max_rss_mb is the largest VmRSS of any
worker process, sampled every 0.5 s. Progress and a breakdown (CPU per process kind,
database transactions and queries per article) go to stderr. Redis and the PostgreSQL
server's own processes are shared with whatever else runs on the machine: the header of
each run says how busy it was, and `other` in the breakdown how much the rest used.
"""

import argparse
import gzip
import html
import json
import math
import os
import platform
import re
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.processes import cpu_seconds, descendants, server_kinds  # noqa: E402
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lede_ingest_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"  # tests/test_outages.py flushes 13
CORPUS = Path(os.environ.get("CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
PAGES_DIR = CORPUS / "extraction" / "scrapinghub-aeb"
# Below articles.ingest.MAX_ENTRIES (500), so no feed is truncated.
ITEMS_PER_FEED = 250
SUMMARY_WORDS = 30
STALL_SECONDS = 240
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)
ROLES = {
    "worker": re.compile(r"ready for work at (\d+)"),
    "monitor": re.compile(r"monitoring at (\d+)"),
    "pusher": re.compile(r"pushing tasks at (\d+)"),
}


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- pages and feeds ---------------------------------------------------------------


def load_pages():
    truth = json.loads((PAGES_DIR / "ground-truth.json").read_text())
    pages = []
    for page_id in sorted(truth):
        gzipped = (PAGES_DIR / "html" / f"{page_id}.html.gz").read_bytes()
        decoded = gzip.decompress(gzipped)
        match = TITLE.search(decoded[:200_000])
        title = html.unescape(match.group(1).decode("utf-8", "replace")).strip() if match else ""
        words = truth[page_id]["articleBody"].split()
        pages.append(
            {
                "id": page_id,
                "gzipped": gzipped,
                "html": decoded,
                "title": " ".join(title.split())[:300] or f"Page {page_id[:12]}",
                "summary": " ".join(words[:SUMMARY_WORDS]),
            }
        )
    return pages


def plan_articles(pages, count, source_count):
    """(source index, path, page, copy) per article: page k % P, copy k // P, source k % S."""
    plan = []
    for k in range(count):
        page, copy = pages[k % len(pages)], k // len(pages)
        source = k % source_count
        plan.append((source, f"/s{source}/c{copy}/{page['id'][:16]}.html", page, copy))
    return plan


def page_route(page, copy):
    """The page gzip-encoded; copies differ by a trailing comment, so none is byte-identical."""
    from tests.localserver import Route

    body = page["gzipped"] if copy == 0 else gzip.compress(
        page["html"] + f"\n<!-- copy {copy} -->\n".encode(), compresslevel=6
    )
    return Route(
        body, 200, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}
    )


def rss(server, items, source):
    now = datetime.now(UTC)
    entries = []
    for n, (path, page) in enumerate(items):
        link = server.base + path
        entries.append(
            f"<item><title>{html.escape(page['title'])}</title><link>{link}</link>"
            f"<guid isPermaLink='true'>{link}</guid>"
            f"<pubDate>{format_datetime(now - timedelta(seconds=n))}</pubDate>"
            f"<description>{html.escape(page['summary'])}</description></item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Bench source {source}</title><link>{server.base}/s{source}/</link>"
        f"{''.join(entries)}</channel></rss>"
    )


def serve(server, plan, source_count, latency=0.0):
    """Pages gzip-encoded, as stored in the corpus, each `latency` seconds late; one
    feed per source."""
    from tests.localserver import Slowed

    delayed = Slowed(latency) if latency else (lambda route: route)
    server.routes.clear()
    server.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    per_source = defaultdict(list)
    for source, path, page, copy in plan:
        server.routes[path] = delayed(page_route(page, copy))
        per_source[source].append((path, page))
    return [
        server.add(f"/feeds/{source}.xml", rss(server, per_source[source], source),
                   content_type="application/rss+xml")
        for source in range(source_count)
    ]


# -- raw extraction ----------------------------------------------------------------


def measure_raw(pages, base):
    """extract_page alone over every page, in this process pinned to one core:
    (pages a second, ms of this thread's CPU a page)."""
    from articles.extract import extract_page

    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(previous)})
    try:
        for page in pages[:3]:  # warm-up: imports, lazy tables
            extract_page(page["html"], base + "/warmup.html")
        started, cpu_started = time.perf_counter(), time.thread_time()
        for page in pages:
            extract_page(page["html"], f"{base}/raw/{page['id'][:16]}.html")
        elapsed = time.perf_counter() - started
        cpu = time.thread_time() - cpu_started
    finally:
        os.sched_setaffinity(0, previous)
    return len(pages) / elapsed, cpu / len(pages) * 1000


# -- database ----------------------------------------------------------------------


def reset_database(url, env):
    import psycopg
    from django.db import connections

    connections.close_all()
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=ROOT, env=env, check=True,
    )
    if env.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()  # queued tasks, cached slots


def database_stats():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched, "
            "tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        return cursor.fetchone()


# -- the cluster -------------------------------------------------------------------


def start_cluster(env, log_path):
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
    )


def stop_cluster(process):
    """SIGTERM to the cluster's main process; SIGKILL to its process group after 20 s.

    The main process stops its own children in order. A SIGTERM to the whole group
    reaches the sentinel, pusher and monitor at once, and django-q2 1.11 then waits
    forever for them (seen here), so only the main process gets the SIGTERM.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            log("cluster did not stop in 20 s: SIGKILL to its process group")
    try:
        os.killpg(process.pid, signal.SIGKILL)  # stragglers only; usually none are left
    except ProcessLookupError:
        pass
    process.wait()


def rss_kb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_jiffies():
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields[:8]) - idle, sum(fields[:8])


class Sampler(threading.Thread):
    """Every 0.5 s: VmRSS and CPU time of each cluster process (roles from the cluster log),
    of the database's backends, of this process, and of the whole machine."""

    def __init__(self, cluster, log_path, database):
        super().__init__(daemon=True)
        self.cluster, self.log_path, self.database = cluster, log_path, database
        self.roles = {cluster.pid: "main"}
        self.max_rss = defaultdict(int)  # role -> kB
        self.cpu = {}  # pid -> (role, last CPU seconds seen)
        self.cpu_start = {}
        self.stopping = threading.Event()
        self.log_offset = 0
        self.machine_start = machine_jiffies()
        self.started = time.monotonic()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.own_backend = cursor.fetchone()[0]
        self.sample()

    def read_roles(self):
        with open(self.log_path) as handle:
            handle.seek(self.log_offset)
            text = handle.read()
            self.log_offset = handle.tell()
        for role, pattern in ROLES.items():
            for pid in pattern.findall(text):
                self.roles[int(pid)] = role

    def track(self, pid, role):
        seconds = cpu_seconds(pid)
        if seconds is not None:
            self.cpu_start.setdefault(pid, seconds)
            self.cpu[pid] = (role, seconds)

    def sample(self):
        self.read_roles()
        for pid in descendants(self.cluster.pid):
            role = self.roles.get(pid, "main" if pid == self.cluster.pid else "sentinel")
            self.max_rss[role] = max(self.max_rss[role], rss_kb(pid))
            self.track(pid, role)
        for pid, kind in server_kinds(self.database, self.own_backend).items():
            self.track(pid, kind)
        self.track(os.getpid(), "bench")

    def run(self):
        while not self.stopping.wait(0.5):
            self.sample()

    def stop(self):
        self.stopping.set()
        self.join()
        self.sample()
        busy_end, total_end = machine_jiffies()
        busy_start, total_start = self.machine_start
        self.machine_cores = (busy_end - busy_start) / (total_end - total_start) * os.cpu_count()
        self.wall = time.monotonic() - self.started

    def cpu_cores(self):
        """Mean cores used per kind over the sampled span; `other` is everything else."""
        totals = defaultdict(float)
        for pid, (role, seconds) in self.cpu.items():
            totals[role] += seconds - self.cpu_start[pid]
        cores = {role: seconds / self.wall for role, seconds in totals.items()}
        cores["other"] = max(0.0, self.machine_cores - sum(cores.values()))
        return cores


def autovacuum_is_on(url):
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute("SHOW autovacuum").fetchone()[0] == "on"


class Autovacuum(threading.Thread):
    """autovacuum's work where the server has it off: its rule, checked every 2 s.

    Production's PostgreSQL runs autovacuum (on by default); some machines'
    servers here have it off. Without statistics the planner reads whole
    tables for lookups it would otherwise make by index (the frequency table
    read whole for each article, relating's candidates joined to every
    original), and the figures would measure that instead of the pipeline.
    A table is analysed once 50 + 10% of its rows changed, and vacuumed (and
    analysed) once 50 + 20% are dead: autovacuum's default thresholds, checked
    every 2 s instead of its one-minute nap, to fit runs of 20 s. Its backend
    counts as `postgres` in the breakdown, as autovacuum's workers would.
    """

    def __init__(self, url, every=2):
        super().__init__(daemon=True)
        self.url, self.every = url, every
        self.stopping = threading.Event()
        self.runs = 0

    def run(self):
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self.stopping.wait(self.every):
                tables = connection.execute(
                    "SELECT s.relname, s.n_mod_since_analyze, s.n_dead_tup, c.reltuples"
                    " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
                ).fetchall()
                for name, modified, dead, rows in tables:
                    rows = max(rows, 0)  # -1: never analysed
                    if dead > 50 + 0.2 * rows:
                        connection.execute(f'VACUUM (ANALYZE) "{name}"')
                    elif modified > 50 + 0.1 * rows:
                        connection.execute(f'ANALYZE "{name}"')
                    else:
                        continue
                    self.runs += 1

    def stop(self):
        self.stopping.set()
        self.join()


def wait_for_log(path, text, seconds, process):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in Path(path).read_text():
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"cluster not {text!r} in {seconds} s:\n{Path(path).read_text()[-3000:]}")


def warm_up(workers):
    """A few no-op tasks, so that no worker's first task pays for process start-up."""
    from django_q.models import Task
    from django_q.tasks import async_task

    for _ in range(workers * 2):
        async_task("articles.tasks.relate_article_task", 0, group="warmup")
    deadline = time.monotonic() + 60
    while Task.objects.filter(group="warmup").count() < workers * 2:  # results are saved
        if time.monotonic() > deadline:
            raise RuntimeError("warm-up tasks did not run in 60 s")
        time.sleep(0.2)


def poll_finished():
    """(articles ready and related, articles failed) in one statement.

    At 10,000 articles a poll reads the whole table, ten times a second, on
    the cores the pipeline uses: the per-state counts are read only for the
    progress line every 5 s.
    """
    from django.db.models import Count, Q

    from articles.models import Article

    counts = Article.objects.aggregate(
        related=Count("pk", filter=Q(state=Article.State.READY, story__isnull=False)),
        failed=Count("pk", filter=Q(state=Article.State.FAILED)),
    )
    return counts["related"], counts["failed"]


def queued_tasks():
    from django_q.brokers import get_broker

    return get_broker().queue_size()


# -- one run -----------------------------------------------------------------------


def run_pipeline(args, workers, pages, server, env, workdir):
    from django.db.models import Count
    from django_q.models import Task
    from django_q.tasks import async_task

    from articles.models import Article, Source

    source_count = max(args.sources, math.ceil(args.articles / ITEMS_PER_FEED))
    plan = plan_articles(pages, args.articles, source_count)
    feeds = serve(server, plan, source_count, args.latency_ms / 1000)

    log(f"workers={workers}: raw extract_page over {len(pages)} pages, one core")
    raw, extract_ms = measure_raw(pages, server.base)
    log(f"  raw {raw:.1f} pages/s, {extract_ms:.1f} ms of CPU a page")

    reset_database(args.database_url, env)
    for n, feed in enumerate(feeds):
        Source.objects.create(name=f"Bench source {n}", slug=f"bench-{n}", feed_url=feed,
                              site_url=f"{server.base}/s{n}/")

    log_path = workdir / f"cluster-{workers}.log"
    cluster = start_cluster({**env, "Q_WORKERS": str(workers)}, log_path)
    sampler = None
    autovacuum = None if args.server_autovacuum else Autovacuum(args.database_url)
    try:
        wait_for_log(log_path, "running.", 60, cluster)
        warm_up(workers)
        sampler = Sampler(cluster, log_path, urlsplit(args.database_url).path.lstrip("/"))
        sampler.start()
        if autovacuum is not None:
            autovacuum.start()
        server.requests.clear()
        stats_before = database_stats()
        log(f"  {args.articles} articles from {source_count} feeds, "
            f"{len({p['id'] for _, _, p, _ in plan})} distinct pages; enqueueing")
        started = time.monotonic()
        for source in Source.objects.order_by("pk"):
            async_task("articles.tasks.fetch_source_task", source.pk, group="fetch")
        progress, last_change, last_report = None, started, started
        while True:
            related, failed = poll_finished()
            now = time.monotonic()
            if (related, failed) != progress:
                progress, last_change = (related, failed), now
            done = related + failed
            if now - last_report >= 5:
                last_report = now
                counts = dict(Article.objects.values_list("state").annotate(total=Count("pk")))
                log(f"  {now - started:5.0f} s: {counts} related={related} "
                    f"worker_rss_mb={sampler.max_rss['worker'] // 1024}")
                # A failed task leaves its article behind until the sweeper's next
                # run: stop now, with its error, instead of waiting for the stall.
                failure = Task.objects.filter(success=False).exclude(group="warmup").first()
                if failure is not None:
                    raise RuntimeError(
                        f"task {failure.func} failed: {str(failure.result).splitlines()[0]}; "
                        f"cluster log: {log_path}"
                    )
            if done >= args.articles:
                break
            if now - last_change > STALL_SECONDS:
                raise RuntimeError(
                    f"no progress in {STALL_SECONDS} s (related={related}, failed={failed}); "
                    f"cluster log: {log_path}"
                )
            time.sleep(0.1)
        # Per-article results are not saved (save=False), so the clock stops when the
        # poll sees the last article related: at most 0.1 s late.
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + 60
        while queued_tasks() and time.monotonic() < deadline:
            time.sleep(0.2)  # every task acknowledged before the counters are read
        stats_after = database_stats()
        sampler.stop()
        if autovacuum is not None:
            autovacuum.stop()
            log(f"  {autovacuum.runs} tables analysed or vacuumed in autovacuum's place")
    finally:
        if sampler is not None and sampler.is_alive():
            sampler.stopping.set()
        if autovacuum is not None and autovacuum.is_alive():
            autovacuum.stop()
        stop_cluster(cluster)

    redelivered = Task.objects.filter(attempt_count__gt=1).count()
    left = queued_tasks()
    if redelivered or left:
        log(f"  {redelivered} tasks ran more than once; {left} left in the queue")
    ready = Article.objects.filter(state=Article.State.READY, story__isnull=False).count()
    failed = Article.objects.filter(state=Article.State.FAILED).count()
    copies = Article.objects.filter(copy_of__isnull=False).count()
    rate = ready / elapsed
    page_requests = sum(1 for path, _ in server.requests if path.startswith("/s"))
    transactions, tuples_read, tuples_written = (
        after - before for after, before in zip(stats_after, stats_before)
    )
    cores = sampler.cpu_cores()
    log(f"  done: ready+related={ready} failed={failed} copies={copies} in {elapsed:.1f} s; "
        f"page requests={page_requests}")
    log("  cores used: " + " ".join(f"{role}={used:.2f}" for role, used in sorted(cores.items()))
        + f" (machine {sampler.machine_cores:.2f} of {os.cpu_count()})")
    if cores["other"] > 0.2:
        log(f"  WARNING: other processes used {cores['other']:.2f} cores during the run; "
            "the figures are low by that much contention")
    # Every process serving the pipeline: the cluster's, PostgreSQL's (but the
    # bench's own polling backend) and Redis; not the bench with its page server.
    pipeline_roles = set(cores) - {"bench", "bench-postgres", "other"}
    pipeline_ms = sum(cores[role] for role in pipeline_roles) * sampler.wall / ready * 1000
    log("  cpu ms per article: " + " ".join(
        f"{role}={cores[role] * sampler.wall / ready * 1000:.1f}" for role in sorted(pipeline_roles))
        + f" total={pipeline_ms:.1f} (extract_page alone {extract_ms:.1f}; ratio 2.0 leaves "
        f"{extract_ms:.1f} for the rest)")
    log(f"  db per article: transactions={transactions / args.articles:.1f} "
        f"tuples_read={tuples_read / args.articles:.0f} "
        f"tuples_written={tuples_written / args.articles:.1f}")
    log("  max rss mb: " + " ".join(
        f"{role}={kb / 1024:.0f}" for role, kb in sorted(sampler.max_rss.items())))
    return {
        "workers": workers,
        "rate": rate,
        "cpu_ms": pipeline_ms,
        "extract_ms": extract_ms,
        "max_rss_mb": sampler.max_rss["worker"] / 1024,
        "other_cores": cores["other"],
        "log_path": log_path,
    }


def count_stage_queries(server, pages, copy, count=10):
    """Queries and CPU per stage, in this process, on new URLs of already-seen pages (copies).

    One article at a time through extract_article_task, which relates inline:
    the batches' relating thread would hide its queries from this connection.
    """
    from django.db import connection

    from articles import tasks
    from articles.models import Article, Source
    from articles.pipeline import relating

    items = [(f"/q/c{copy}/{page['id'][:16]}.html", page) for page in pages[:count]]
    for path, page in items:
        server.routes[path] = page_route(page, copy + 1000)
    feed = server.add(f"/feeds/q{copy}.xml", rss(server, items, "q"),
                      content_type="application/rss+xml")
    source = Source.objects.create(name=f"Query count {copy}", slug=f"query-count-{copy}",
                                   feed_url=feed)
    queries, cpu = defaultdict(int), defaultdict(float)
    stage = ["fetch"]

    def count(execute, sql, params, many, context):
        queries[stage[0]] += 1
        return execute(sql, params, many, context)

    relate_article = relating.relate_article

    def timed_relate(article_id):
        stage[0], started = "relate", time.process_time()
        try:
            return relate_article(article_id)
        finally:
            spent = time.process_time() - started
            cpu["relate"] += spent
            cpu["extract"] -= spent
            stage[0] = "extract"

    relating.relate_article = timed_relate
    try:
        with connection.execute_wrapper(count):
            started = time.process_time()
            tasks.fetch_source_task(source.pk)
            cpu["fetch"] = time.process_time() - started
            ids = list(Article.objects.filter(source=source).values_list("pk", flat=True))
            stage[0], started = "extract", time.process_time()
            for article_id in ids:
                tasks.extract_article_task(article_id)
            cpu["extract"] += time.process_time() - started
    finally:
        relating.relate_article = relate_article
    log("  in-process per article (copies of seen pages; the extract task relates too): "
        + " ".join(f"{name} queries={queries[name] / len(ids):.1f} "
                   f"cpu_ms={cpu[name] / len(ids) * 1000:.0f}"
                   for name in ("fetch", "extract", "relate"))
        + f" total queries={sum(queries.values()) / len(ids):.1f}")


# -- main --------------------------------------------------------------------------


def machine():
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PHYS_PAGES") * PAGE_SIZE / 2**30
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return (f"nproc={os.cpu_count()} cpu={model or platform.machine()} mem={memory:.1f}GiB "
            f"load={load} {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=360,
                        help="articles per run; each page is served under articles/181 URLs")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--sources", type=int, default=6,
                        help=f"feeds (at least articles/{ITEMS_PER_FEED})")
    parser.add_argument("--memory-check", action="store_true",
                        help="10,000 articles with 1 worker (target: worker RSS < 300 MB)")
    parser.add_argument("--no-query-count", action="store_true",
                        help="skip the in-process queries-per-stage count after each run")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--latency-ms", type=float, default=0,
                        help="each page answered this late, as from a distant site (default 0)")
    parser.add_argument("--fetch-per-host", type=int, default=8,
                        help="FETCH_PER_HOST for the cluster (default 8; production's is 2): "
                             "every feed and page here is on one host")
    parser.add_argument("--broker", choices=["redis", "orm"], default="redis",
                        help="redis: production's broker and cache; orm: the embedded default's")
    args = parser.parse_args()
    if args.memory_check:
        args.articles, args.workers = 10_000, "1"
    worker_counts = [int(n) for n in args.workers.split(",")]
    if not args.database_url.startswith("postgres"):
        parser.error("DATABASE_URL must be PostgreSQL")

    workdir = Path(tempfile.mkdtemp(prefix="lede-ingest-bench-"))
    from tests.localserver import LocalServer

    server = LocalServer()
    secret_key = secrets.token_urlsafe(50)  # tasks are signed: shared with the cluster
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": secret_key,
        "HTTPS": "0",
        "DEBUG": "0",
        "VAR_DIR": str(workdir),
        "FETCH_PRIVATE_ALLOWLIST": f"127.0.0.1:{server.port}",
        "FETCH_PER_HOST": str(args.fetch_per_host),
        "LOG_LEVEL": "INFO",  # the cluster log names each process's role and pid
        "DJANGO_SETTINGS_MODULE": "aggregator.settings",
    }
    env.pop("REDIS_URL", None)
    if args.broker == "redis":
        env["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.update({**env, "LOG_LEVEL": "WARNING"})
    if args.broker != "redis":
        os.environ.pop("REDIS_URL", None)

    command = "python bench/ingest.py " + shlex.join(sys.argv[1:])
    args.server_autovacuum = autovacuum_is_on(
        urlsplit(args.database_url)._replace(path="/postgres").geturl()
    )
    vacuum = "server's" if args.server_autovacuum else "off on the server, its rule run by the bench"
    print(f"# {command.strip()} | {machine()} | broker={args.broker} | autovacuum={vacuum}",
          flush=True)
    results = []
    try:
        pages = load_pages()
        reset_database(args.database_url, env)  # Django must find the database to set up
        import django

        django.setup()
        for workers in worker_counts:
            result = run_pipeline(args, workers, pages, server, env, workdir)
            if not args.no_query_count:
                count_stage_queries(server, pages, workers)
            results.append(result)
            print(
                f"workers={workers} articles_per_s={result['rate']:.1f} "
                f"cpu_ms_per_article={result['cpu_ms']:.1f} "
                f"extract_ms={result['extract_ms']:.1f} "
                f"cost_ratio={result['cpu_ms'] / result['extract_ms']:.2f} "
                f"max_rss_mb={result['max_rss_mb']:.0f}",
                flush=True,
            )
            if result["other_cores"] > 0.2:
                print(f"# other processes used {result['other_cores']:.2f} cores of "
                      f"{os.cpu_count()} during workers={workers}", flush=True)
    finally:
        server.close()
    log(f"cluster logs in {workdir}")


if __name__ == "__main__":
    main()
