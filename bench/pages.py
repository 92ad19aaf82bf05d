"""Page throughput and latency at scale, with the production settings.

    python bench/pages.py [--articles 100000] [--compare 1000] [--duration 5] [--rounds 3]

Fills PostgreSQL (BENCH_DATABASE_URL, default .../lede_pages_bench, with a
_SIZE suffix when two sizes are compared; dropped and recreated) with
articles, related links, stories and comments, starts gunicorn for each size
(2 workers unless --workers, DEBUG off, a Redis cache of its own when the
local Redis answers) and loads each path with the same tool and 16 connections (wrk when
installed, `make bench-tools`; a Python generator otherwise). Prints, per size:
    bytes_per_article=0
    disk_read_mb=0
    PATH rps=0.0 p50_ms=0.0 p99_ms=0.0 ratio=0.00 [cpu_ms=0.00]
bytes_per_article is the app's tables, their indexes and TOAST
(PostgreSQL's pg_total_relation_size) over the articles, once filled.
disk_read_mb is what the machine read from its disks during that size's
loads (Linux's /proc/vmstat): more than a few MB means some of the figures
waited for the disk, not for the site.
ratio is to /healthz in the same round. cpu_ms, on the uncached lines, is
the CPU that gunicorn's processes, PostgreSQL's and Redis's spent per
request during the load (Linux's /proc; wrk and the bench excluded): the
work a page costs, which a slower minute of a shared VM changes less than
it changes rps. Each figure is the median of
--rounds rounds, the sizes taking turns (ABBA...): on a shared VM the same
loop runs up to 1.6x slower from one minute to the next, and taking turns
puts that drift on both sizes alike. "(uncached)" lines hit a different
article or query on every request, so they measure the database path.
After the rounds, "(uncached, one reader)" lines load the same kind of
paths with one connection, once: the time a page takes when nobody queues
ahead (at 16 connections, a request mostly waits for the 15 before it).
Before the load, each database's tables and indexes are read into the OS's
page cache (pg_prewarm), as a server that has run a while has them.
"""

import argparse
import itertools
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.archive import topics  # noqa: E402
from bench.processes import cpu_seconds, descendants, server_kinds  # noqa: E402


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


WRK_THREADS = 2


class FreshPaths:
    """Paths no earlier request of the run asked for: every one misses the page cache.

    (Before 2026-12-06 the uncached lines drew from 2,000 paths with wrk's
    math.random, which LuaJIT seeds alike in every thread and every run: the
    two threads asked for each path twice and a round repeated the last
    one's paths while their 60 s cache entries lived, so up to half or more
    of those requests were hits.) Each load takes the next paths in order.
    """

    def __init__(self, paths):
        self.paths, self.offset = paths, 0

    def take(self):
        path = self.paths[self.offset]
        self.offset += 1
        return path


def load_wrk(url, seconds, connections, fresh=None, folder=None):
    threads = min(WRK_THREADS, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if fresh:
        command[1:1] = ["-s", fresh_paths_script(fresh, folder, threads)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def percentile(name):
        value, unit = re.search(rf"\s{name}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    if fresh:
        used = int(re.search(r"fresh_paths_used=(\d+)", out).group(1))
        if fresh.offset + used > len(fresh.paths):
            print(f"  {url}: ran out of fresh paths, some were asked twice", file=sys.stderr)
        fresh.offset += used
    socket_errors = re.search(r"Socket errors: .*", out)
    if socket_errors:
        print(f"  {url}: {socket_errors.group()}", file=sys.stderr)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  {url}: {errors.group(1)} non-2xx responses", file=sys.stderr)
    return rps, percentile("50"), percentile("99")


def load_python(base, seconds, connections, fresh=None, path=None):
    """Keep-alive HTTP/1.1 clients in threads; a fallback where wrk is missing."""
    import http.client
    from urllib.parse import urlsplit

    latencies, stop = [], time.monotonic() + seconds
    lock = threading.Lock()

    def next_path():
        if fresh is None:
            return path
        with lock:
            return fresh.take()

    def client():
        origin = urlsplit(base)
        connection = http.client.HTTPConnection(origin.hostname, origin.port, timeout=10)
        mine = []
        while time.monotonic() < stop:
            target = next_path()
            started = time.perf_counter()
            connection.request("GET", target)
            connection.getresponse().read()
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return (
        len(latencies) / seconds,
        statistics.median(latencies),
        latencies[int(len(latencies) * 0.99) - 1],
    )


def fresh_paths_script(fresh, folder, threads=WRK_THREADS):
    """A wrk script whose threads walk the unused paths in turn, none asked twice.

    Prints fresh_paths_used=N: how far into the list the threads got.
    """
    listing = Path(folder) / "fresh-paths.txt"
    listing.write_text("\n".join(fresh.paths[fresh.offset:]) + "\n")
    script = Path(folder) / "paths.lua"
    script.write_text(f"""
local threads = {{}}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  paths = {{}}
  for line in io.lines("{listing}") do paths[#paths + 1] = line end
  counter = 0
end
function request()
  local index = counter * {threads} + id
  counter = counter + 1
  return wrk.format("GET", paths[index % #paths + 1])
end
function done(summary, latency, requests)
  local used = 0
  for _, thread in ipairs(threads) do
    local asked = thread:get("counter")
    if asked > 0 then used = math.max(used, (asked - 1) * {threads} + thread:get("id") + 1) end
  end
  io.write("fresh_paths_used=" .. used .. "\\n")
end
""")
    return str(script)


def disk_read_kb():
    """Kilobytes read from the machine's disks since boot (Linux), or None."""
    try:
        with open("/proc/vmstat") as vmstat:
            for line in vmstat:
                if line.startswith("pgpgin "):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def serving_cpu(server, database):
    """{pid: CPU seconds} of the processes that serve a page: gunicorn's
    (`server` and its workers), the database's backends, PostgreSQL's own
    processes and Redis (bench/processes.py, as bench/ingest.py counts them)."""
    pids = [*descendants(server), *server_kinds(database, own_backend=None)]
    return {pid: seconds for pid in pids if (seconds := cpu_seconds(pid)) is not None}


def cpu_ms_per_request(before, after, requests):
    """Of the processes alive at both ends: a backend that exits meanwhile
    takes its CPU with it, and one that starts has none before."""
    if not requests:
        return None
    seconds = sum(after[pid] - before[pid] for pid in before.keys() & after.keys())
    return seconds * 1000 / requests


def measure(base, paths, seconds, connections, folder, serving=None):
    """{label: (rps, p50, p99)}, {label: MB read from disk meanwhile, or None}
    and {label: cpu_ms per request, or None} (uncached paths, when `serving`
    is serving_cpu's (server pid, database name)).

    A page the database finds in the OS's cache costs CPU; one it reads from
    disk costs waiting. This machine kind's kernel drops page-cache pages
    it finds idle, so part of a database read into memory before the load
    can be read from disk again during it: the reads say when.
    """
    results, reads, cpu = {}, {}, {}
    for label, target in paths:
        fresh = target if isinstance(target, FreshPaths) else None
        before = disk_read_kb()
        cpu_before = serving_cpu(*serving) if fresh and serving else {}
        if shutil.which("wrk"):
            first = base + (fresh.paths[fresh.offset] if fresh else target)
            results[label] = load_wrk(first, seconds, connections, fresh, folder)
        else:
            results[label] = load_python(base, seconds, connections, fresh, target)
        # Responses still in flight when the load stops (16 at most, against
        # a thousand or more) are counted in the CPU, not in the requests.
        cpu[label] = (cpu_ms_per_request(cpu_before, serving_cpu(*serving), results[label][0] * seconds)
                      if cpu_before else None)
        after = disk_read_kb()
        reads[label] = None if before is None or after is None else (after - before) / 1024
    return results, reads, cpu


def fresh_articles(rng, count, size=40_000):
    return FreshPaths([f"/articles/article-{n}/" for n in rng.sample(range(count), min(size, count))])


def fresh_searches(rng):
    """Two topic words of one category, as a reader would pair them, in every
    order (2,280 searches), and three (6,840), shuffled together.

    (Before 2026-12-07 the pairs came first and the triples after them: a run
    that used up the pairs went on with triples, which match fewer articles
    and cost less at 100,000 articles and more at 1,000,000 (every month
    read), so each size's mix depended on how fast it served, and the
    faster size's later rounds measured another workload. Shuffled together,
    every round of either size draws from the same mix.)
    """
    pairs = [f"/search/?q={a}+{b}" for words in topics() for a, b in itertools.permutations(words, 2)]
    triples = [f"/search/?q={'+'.join(three)}" for words in topics()
               for three in itertools.combinations(words, 3)]
    searches = pairs + triples
    rng.shuffle(searches)
    return FreshPaths(searches)


def read_into_memory(database_url):
    """Read the database's tables, indexes and TOAST into the OS's page cache.

    A server that has run a while holds its working set in memory; a
    database just filled or left by an earlier run holds whatever that run
    touched (at 1,000,000 articles, 18-22 MB/s read from disk and 12-16%
    of the cores idle during the uncached articles), and the sizes would
    differ by what each happened to have cached. Reported, not hidden.
    Read right before each round, not once after filling: this machine
    kind's kernel drops page-cache pages left idle (a DAMON reclaim
    scheme), and a minute idle left hundreds of MB of the 1,000,000
    database to it (disk_read_mb says what a load still read from disk).
    """
    import psycopg

    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as connection:
        try:
            connection.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except psycopg.Error as error:
            print(f"  pg_prewarm not available ({error}): the database is read from wherever it is",
                  file=sys.stderr)
            return
        pages = connection.execute(
            "SELECT sum(pg_prewarm(c.oid, 'read'))::bigint FROM pg_class c"
            " WHERE c.relkind IN ('r', 'i', 't', 'm')"
            " AND c.relnamespace IN ('public'::regnamespace, 'pg_toast'::regnamespace)"
        ).fetchone()[0]
    print(f"  read {pages * 8192 / 1e9:.1f} GB into memory in {time.monotonic() - started:.0f} s",
          file=sys.stderr)


def start_site(count, database_url, redis_db, rng, reuse=False, workers=2):
    """A database of `count` articles and gunicorn serving it.

    Returns (base URL, process, paths, folder, bytes_per_article line).
    """
    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not (reuse and exists.fetchone()):
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    folder = tempfile.mkdtemp(prefix="lede-pages-")
    env = {
        **os.environ, "DATABASE_URL": database_url, "DEBUG": "0", "HTTPS": "0",
        "SECRET_KEY": "bench-" + "k" * 60, "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(Path(folder) / "static"), "VAR_DIR": folder,
        "DJANGO_SETTINGS_MODULE": "aggregator.settings",
    }
    env.pop("REDIS_URL", None)
    # One Redis database per size: both sites serve the same paths.
    redis_url = f"{os.environ.get('BENCH_REDIS', 'redis://127.0.0.1:6379')}/{redis_db}"
    try:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        env["REDIS_URL"] = redis_url
    except Exception:
        print("  Redis not reachable: the page cache is per process (locmem)", file=sys.stderr)
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run(manage + step, cwd=ROOT, env=env, check=True)
    started = time.monotonic()
    # In a process of its own: Django is set up for one database.
    filled = subprocess.run([sys.executable, __file__, "--fill", str(count)], cwd=ROOT, env=env,
                            check=True, stdout=subprocess.PIPE, text=True).stdout
    print(f"  filled {count} articles in {time.monotonic() - started:.0f} s", file=sys.stderr)
    storage = re.search(r"bytes_per_article=\d+", filled).group()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "aggregator.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        article = f"/articles/article-{count // 2}/"
        paths = [
            ("/healthz", "/healthz"),
            ("/", "/"),
            (article, article),
            ("/sources/source-7/", "/sources/source-7/"),
            ("/search/?q=harbour+flood", "/search/?q=harbour+flood"),
            ("/articles/<random>/ (uncached)", fresh_articles(rng, count)),
            ("/search/?q=<random> (uncached)", fresh_searches(rng)),
        ]
        for _label, target in paths:  # warm the cache and the connections
            path = target.take() if isinstance(target, FreshPaths) else target
            urllib.request.urlopen(base + path, timeout=30).read()
    except BaseException:
        os.killpg(server.pid, signal.SIGTERM)
        raise
    return base, server, paths, folder, storage


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--compare", type=int, default=0, help="Also measure at this size.")
    parser.add_argument("--duration", type=int, default=5, help="Seconds a path, each round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn's workers (2, as the targets were set; production runs 4).")
    parser.add_argument("--reuse", action="store_true",
                        help="Keep a database this script filled before (it takes minutes at 1M).")
    parser.add_argument("--fill", type=int, help=argparse.SUPPRESS)  # the child that fills
    args = parser.parse_args()
    if args.fill:
        import django

        django.setup()
        from articles.models import Article
        from articles.retention import bytes_per_article
        from bench.archive import fill

        if Article.objects.count() != args.fill:  # a database kept by --reuse is not filled again
            fill(args.fill)
        print(f"bytes_per_article={bytes_per_article():.0f}")
        return
    tool = "wrk" if shutil.which("wrk") else "python"
    print(f"# bench/pages.py --articles {args.articles} --compare {args.compare}; "
          f"{tool}, {args.connections} connections, {args.workers} workers, {args.duration} s a path, "
          f"median of {args.rounds} rounds, {os.cpu_count()} cores")
    sizes = [c for c in (args.compare, args.articles) if c]
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lede_pages_bench"
    )
    sites, urls = {}, {}
    try:
        for n, count in enumerate(sizes):
            url = urls[count] = database_url if len(sizes) == 1 else f"{database_url}_{count}"
            sites[count] = start_site(count, url, 15 - 3 * n, random.Random(count), args.reuse,
                                      args.workers)
        rounds = {count: [] for count in sizes}
        cpu_rounds = {count: [] for count in sizes}
        read = {count: 0.0 for count in sizes}
        for round_ in range(args.rounds):
            for count in sizes if round_ % 2 == 0 else sizes[::-1]:
                base, server, paths, folder, _storage = sites[count]
                print(f"  round {round_ + 1}: {count} articles", file=sys.stderr)
                # Right before: the other size's turn, or starting the sites,
                # is time enough for the kernel to drop some of it.
                read_into_memory(urls[count])
                results, reads, cpu = measure(base, paths, args.duration, args.connections, folder,
                                              (server.pid, urls[count].rsplit("/", 1)[1]))
                rounds[count].append(results)
                cpu_rounds[count].append(cpu)
                for label, (rps, p50, p99) in results.items():
                    mb, ms = reads[label], cpu[label]
                    read[count] += mb or 0.0
                    print(f"    {label} rps={rps:.1f} p50_ms={p50:.1f} p99_ms={p99:.1f}"
                          + ("" if mb is None else f" disk_read_mb={mb:.0f}")
                          + ("" if ms is None else f" cpu_ms={ms:.2f}"), file=sys.stderr)
        # The uncached paths again with one connection: what a page costs when
        # nobody waits behind anybody else. At 16 connections a request mostly
        # waits for the 15 ahead of it (p50 near 16 / rps), and its p99 is
        # that queue's; this line is the service time itself.
        alone = {}
        for count in sizes:
            base, _server, paths, folder, _storage = sites[count]
            uncached = [(label, target) for label, target in paths if isinstance(target, FreshPaths)]
            alone[count] = measure(base, uncached, args.duration, 1, folder)[0]
    finally:
        for _base, server, _paths, _folder, _storage in sites.values():
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
    medians, cpu_medians = {}, {}
    for count in sizes:
        print(f"## {count} articles")
        print(sites[count][4])
        if disk_read_kb() is not None:
            print(f"disk_read_mb={read[count]:.0f}  # during this size's loads, all rounds")
        medians[count], cpu_medians[count] = {}, {}
        for label in rounds[count][0]:
            runs = [result[label] for result in rounds[count]]
            ratios = [result[label][0] / result["/healthz"][0] for result in rounds[count]
                      if result["/healthz"][0]]
            rps, p50, p99 = (statistics.median(column) for column in zip(*runs))
            medians[count][label] = rps
            ratio = statistics.median(ratios) if ratios else 0.0
            cpu = [result[label] for result in cpu_rounds[count] if result[label] is not None]
            cpu_medians[count][label] = statistics.median(cpu) if cpu else None
            print(f"{label} rps={rps:.1f} p50_ms={p50:.1f} p99_ms={p99:.1f} ratio={ratio:.2f}"
                  + (f" cpu_ms={cpu_medians[count][label]:.2f}" if cpu else ""))
        for label, (rps, p50, p99) in alone[count].items():
            print(f"{label.replace('(uncached)', '(uncached, one reader)')} rps={rps:.1f} "
                  f"p50_ms={p50:.1f} p99_ms={p99:.1f}")
    if len(sizes) == 2:
        small, large = sizes
        for figure, by_size in (("rps", medians), ("cpu_ms", cpu_medians)):
            # Same paths in the same order; the article's path differs by size.
            pairs = zip(by_size[small].items(), by_size[large].values())
            print(f"# {figure} at {large} against {small} articles: " + ", ".join(
                f"{label} {100 * (at_large / at_small - 1):+.0f}%"
                for (label, at_small), at_large in pairs if at_small and at_large))


if __name__ == "__main__":
    main()
