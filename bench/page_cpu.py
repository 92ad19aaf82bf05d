"""In-process cost of uncached article pages and searches, one request at a time.

    DATABASE_URL=postgres://.../lede_scale_pages_1000000 python bench/page_cpu.py \
        [--what article|search] [--requests 300] [--seed 1]

Asks Django's test client for random articles (article-N of bench/archive.py's
archive) or random two-topic-word searches, every one a cache miss, and prints
the median and 99th percentile of each request's wall time, this process's
CPU, the database's time (the sum of its queries as Django timed them), the
number of queries and the template's CPU:
    article requests=300 wall_p50=0.0 wall_p99=0.0 cpu_p50=0.0 ... render_cpu_p99=0.0
What bench/pages.py's uncached lines add to these is waiting: with 16
connections on 2 workers, a request waits for about 7 others (bench/NOTES-pages.md).
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
for name, value in {"DJANGO_SETTINGS_MODULE": "aggregator.settings", "DEBUG": "0", "HTTPS": "0",
                    "SECRET_KEY": "bench-" + "k" * 60, "ALLOWED_HOSTS": "testserver"}.items():
    os.environ.setdefault(name, value)
os.environ.pop("REDIS_URL", None)


def percentile(values, share):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * share))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--what", choices=["article", "search"], default="article")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import django
    from django.conf import settings

    django.setup()
    # No Redis and no collected static files needed: per-process caches, plain static names.
    settings.CACHES["locks"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    from django.db import connection
    from django.template.response import SimpleTemplateResponse
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from articles.models import Article
    from bench.archive import topics

    figures = {name: [] for name in ("wall", "cpu", "db", "queries", "render_cpu")}
    rendered = SimpleTemplateResponse.rendered_content

    def timed_render(response):
        started = time.process_time()
        content = rendered.fget(response)
        figures["render_cpu"].append((time.process_time() - started) * 1000)
        return content

    SimpleTemplateResponse.rendered_content = property(timed_render)
    count = Article.objects.count()
    rng = random.Random(args.seed)
    client = Client()
    for _ in range(args.requests):
        if args.what == "article":
            url = f"/articles/article-{rng.randrange(count)}/"
        else:
            url = "/search/?q={}+{}".format(*rng.sample(rng.choice(topics()), 2))
        with CaptureQueriesContext(connection) as queries:
            wall, cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            figures["cpu"].append((time.process_time() - cpu) * 1000)
            figures["wall"].append((time.perf_counter() - wall) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        figures["db"].append(sum(float(query["time"]) for query in queries.captured_queries) * 1000)
        figures["queries"].append(len(queries.captured_queries))
    print(f"{args.what} requests={args.requests} articles={count} " + " ".join(
        f"{name}_p50={statistics.median(values):.1f} {name}_p99={percentile(values, 0.99):.1f}"
        for name, values in figures.items()
    ))


if __name__ == "__main__":
    main()
