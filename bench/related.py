"""Related links and stories on a labelled JSONL set, through the real tables and code.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lede_related_bench \\
        .venv/bin/python bench/related.py --dataset ../shared/corpus/related/ecbplus/ecbplus_docs.jsonl \\
        [--filler 100000]

Each line of the JSONL is one article: doc_id, title, text, event_cluster, and optionally topic,
source and date. The database named by DATABASE_URL is emptied first (default: a temporary SQLite
file). Articles are related in date order, in batches of --batch (10) as the pipeline's tasks do; --filler adds that
many random-text articles spread over the year before, to show the cost per new article.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SYNTHETIC_SOURCES = 12
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
SPREAD = timedelta(days=3)
FILLER_SPAN = timedelta(days=365)


def setup_django():
    if "DATABASE_URL" not in os.environ:
        path = Path(tempfile.mkdtemp()) / "related.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aggregator.settings")
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres"):
        create_postgres_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


def create_postgres_database(url):
    import psycopg
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def load_documents(path):
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def parse_date(value):
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def plan_documents(documents, rng):
    """Source name and date per document: given ones, or synthetic ones.

    Synthetic sources go round-robin within each event, so the same event is
    mostly covered by different outlets; synthetic dates all fall within a few
    days, so time cannot tell two events of the same kind apart.
    """
    by_event = defaultdict(list)
    for document in documents:
        by_event[document["event_cluster"]].append(document)
    plan = {}
    for event_documents in by_event.values():
        offset = rng.randrange(SYNTHETIC_SOURCES)
        for position, document in enumerate(event_documents):
            source = document.get("source") or f"Outlet {(offset + position) % SYNTHETIC_SOURCES + 1}"
            if document.get("date"):
                date = parse_date(document["date"])
            else:
                date = START + timedelta(seconds=rng.uniform(0, SPREAD.total_seconds()))
            plan[document["doc_id"]] = (source, date)
    return plan


def get_source(name, sources):
    from articles.models import Source
    from django.utils.text import slugify

    if name not in sources:
        slug = slugify(name)[:180] or "source"
        sources[name] = Source.objects.create(
            name=name, slug=f"{slug}-{len(sources)}", feed_url=f"https://{slug}-{len(sources)}.example/feed"
        )
    return sources[name]


def insert_documents(documents, plan):
    from articles.models import Article

    sources = {}
    ids = {}
    for document in documents:
        source_name, date = plan[document["doc_id"]]
        source = get_source(source_name, sources)
        url = document.get("url") or f"https://{source.slug}.example/{document['doc_id']}"
        text = document["text"]
        article = Article.objects.create(
            source=source,
            guid=str(document["doc_id"]),
            url=url,
            canonical_url=url,
            title=document["title"][:500],
            published_at=date,
            body_text=text,
            summary=text[:300],
            word_count=len(text.split()),
            state=Article.State.READY,
        )
        ids[article.pk] = document
    return ids


def insert_filler(count, documents, end, rng):
    """Random text drawn from the set's own words, bulk-inserted with its index rows."""
    from django.db import connection

    from articles.related import index, vectors
    from articles.models import Article, ArticleTerm, Source, url_hash
    from articles.text import TOKEN, article_features

    words = [word for document in documents for word in TOKEN.findall(document["text"])]
    source = Source.objects.create(name="Filler", slug="filler", feed_url="https://filler.example/feed")
    started = time.perf_counter()
    for start in range(0, count, 5000):
        batch = []
        features = []
        for n in range(start, min(count, start + 5000)):
            title = " ".join(rng.choices(words, k=8))
            text = " ".join(rng.choices(words, k=rng.randint(80, 250))) + "."
            url = f"https://filler.example/{n}"
            published_at = end - timedelta(seconds=rng.uniform(0, FILLER_SPAN.total_seconds()))
            batch.append(
                Article(
                    source=source, guid=url, url=url, canonical_url=url, url_hash=url_hash(url),
                    slug=f"filler-{n}", title=title, body_text=text, published_at=published_at,
                    word_count=len(text.split()), state=Article.State.READY,
                )
            )
            features.append(article_features(title, text))
        article_words = [vectors.article_words(item) for item in features]
        count_documents(article_words)
        frequencies, documents_total = index.document_frequencies(set().union(*article_words))
        for article, item in zip(batch, features):
            article.terms = vectors.weigh_features(item, frequencies, documents_total)
        Article.objects.bulk_create(batch, batch_size=1000)
        rows = [
            row
            for article in batch
            for row in index.index_rows(article.pk, article.published_at, article.terms)
        ]
        ArticleTerm.objects.bulk_create(rows, batch_size=5000)
    if connection.vendor == "postgresql":
        # What autovacuum would do soon after a bulk load: fresh statistics.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"filler: {count} articles inserted in {time.perf_counter() - started:.1f}s")


def b_cubed(assigned, truth):
    clusters = defaultdict(set)
    events = defaultdict(set)
    for item in truth:
        clusters[assigned[item]].add(item)
        events[truth[item]].add(item)
    precision = recall = 0.0
    for item in truth:
        cluster = clusters[assigned[item]]
        event = events[truth[item]]
        overlap = len(cluster & event)
        precision += overlap / len(cluster)
        recall += overlap / len(event)
    precision /= len(truth)
    recall /= len(truth)
    return precision, recall, 2 * precision * recall / (precision + recall)


def measure(ids):
    from articles.models import Article, RelatedLink

    links = defaultdict(list)
    for from_id, to_id, score in RelatedLink.objects.filter(from_article_id__in=list(ids)).values_list(
        "from_article_id", "to_article_id", "score"
    ):
        links[from_id].append((score, to_id))
    hits_at_1 = 0
    precision_at_5 = 0.0
    top_links = hard_negatives = 0
    linked = 0
    for pk, document in ids.items():
        ranked = [to_id for _score, to_id in sorted(links[pk], key=lambda item: (-item[0], item[1]))][:5]
        if not ranked:
            continue
        linked += 1
        right = [to_id in ids and ids[to_id]["event_cluster"] == document["event_cluster"] for to_id in ranked]
        hits_at_1 += right[0]
        precision_at_5 += sum(right) / len(ranked)
        for to_id, correct in zip(ranked, right):
            top_links += 1
            other = ids.get(to_id)
            if (
                not correct
                and other is not None
                and other.get("topic") is not None
                and other.get("topic") == document.get("topic")
            ):
                hard_negatives += 1
    stories = dict(Article.objects.filter(pk__in=list(ids)).values_list("pk", "story_id"))
    assigned = {pk: stories[pk] or f"alone-{pk}" for pk in ids}
    truth = {pk: document["event_cluster"] for pk, document in ids.items()}
    copies = Article.objects.filter(pk__in=list(ids), copy_of__isnull=False).count()
    return {
        "articles": len(ids),
        "without_links": len(ids) - linked,
        "p_at_1": hits_at_1 / (linked or 1),
        "p_at_5": precision_at_5 / (linked or 1),
        "hard_negative_share": hard_negatives / (top_links or 1),
        "b3": b_cubed(assigned, truth),
        "stories": len(set(assigned.values())),
        "events": len(set(truth.values())),
        "copies": copies,
    }


def topic_half(documents, half, seed):
    """The documents of a random half of the topics (of the events when there are no topics)."""
    key = lambda document: str(document.get("topic", document["event_cluster"]))
    topics = sorted({key(document) for document in documents})
    random.Random(seed).shuffle(topics)
    chosen = set(topics[: len(topics) // 2] if half == "a" else topics[len(topics) // 2 :])
    return [document for document in documents if key(document) in chosen]


def count_documents(words_per_article):
    """Add one document per article to the frequency of each of its words (a bulk load)."""
    from articles.related.index import ALL_DOCUMENTS, add_to_frequencies

    totals = {}
    for words in words_per_article:
        for word in words:
            totals[word] = totals.get(word, 0) + 1
    totals[ALL_DOCUMENTS] = len(words_per_article)
    add_to_frequencies(totals)


def apply_settings(assignments):
    """NAME=VALUE overrides of the related package's module constants."""
    from articles.related import copies, index, links, stories, vectors

    modules = [vectors, index, copies, stories, links]
    for assignment in assignments:
        name, value = assignment.split("=", 1)
        module = next((module for module in modules if hasattr(module, name)), None)
        if module is None:
            raise SystemExit(f"articles/related/ has no constant {name}")
        setattr(module, name, type(getattr(module, name))(value))
        print(f"setting {module.__name__}.{name}={getattr(module, name)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--filler", type=int, default=0, help="random articles to add first (e.g. 10000, 100000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--half", choices=["a", "b"], help="only the topics of one random half (split by --split-seed), to check "
        "that a setting chosen on one half holds on the other",
    )
    parser.add_argument("--split-seed", type=int, default=1)
    parser.add_argument(
        "--batch", type=int, default=10,
        help="articles related together, as a task's batch in the pipeline (EXTRACT_BATCH); "
             "1: relate_article, one at a time",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE",
        help="override a constant of the articles/related/ package for this run, e.g. STORY_MIN_LINKAGE=0.3",
    )
    options = parser.parse_args()

    setup_django()
    from django.db import connection

    from articles.related import relate_article, relate_articles

    rng = random.Random(options.seed)
    documents = load_documents(options.dataset)
    if options.half:
        documents = topic_half(documents, options.half, options.split_seed)
    apply_settings(options.set)
    plan = plan_documents(documents, rng)
    if options.filler:
        first = min(date for _source, date in plan.values())
        insert_filler(options.filler, documents, first, rng)
    ids = insert_documents(documents, plan)
    order = sorted(ids, key=lambda pk: (plan[ids[pk]["doc_id"]][1], pk))
    timings = []
    statements = []

    def count_statement(execute, sql, params, many, context):
        statements[-1] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count_statement):
        for start in range(0, len(order), options.batch):
            batch = order[start : start + options.batch]
            statements.append(0)
            started = time.perf_counter()
            if options.batch == 1:
                relate_article(batch[0])
            else:
                relate_articles(batch)
            # Per article: each of the batch's articles counts its share.
            share = (time.perf_counter() - started) / len(batch)
            timings.extend([share] * len(batch))
            statements[-1:] = [statements[-1] / len(batch)] * len(batch)
    ms_per_article = 1000 * sum(timings) / len(timings)
    timings.sort()
    # What each source adds: once per changed story, by its scheduled task,
    # not inside relating (whose figures above it must not change).
    from articles.related.additions import refresh_stale_additions

    started, stories = time.perf_counter(), 0
    while batch := refresh_stale_additions():
        stories += batch
    additions_seconds = time.perf_counter() - started
    result = measure(ids)
    precision, recall, f1 = result["b3"]
    print(f"database: {connection.vendor}; dataset: {Path(options.dataset).name}; filler articles: {options.filler}")
    print(f"articles: {result['articles']}, events: {result['events']}, stories: {result['stories']}, "
          f"marked copies: {result['copies']}")
    print(f"articles without a related link: {result['without_links']}")
    print(f"event precision@1 {result['p_at_1']:.3f}, precision@5 {result['p_at_5']:.3f} "
          "(over the links stored, at most 5)")
    print(f"top-5 links to the same topic but another event: {result['hard_negative_share']:.3f}")
    print(f"stories B-cubed precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f}")
    print(f"linking one new article: mean {ms_per_article:.1f} ms, median {1000 * timings[len(timings) // 2]:.1f} ms, "
          f"p95 {1000 * timings[int(len(timings) * 0.95)]:.1f} ms")
    print(f"SQL statements per article: mean {sum(statements) / len(statements):.1f}, max {max(statements):.1f}")
    print(f"what each source adds, afterwards: {stories} stories in {additions_seconds:.1f} s, "
          f"{1000 * additions_seconds / (stories or 1):.1f} ms a story")
    print(
        f"p_at_1={result['p_at_1']:.3f} p_at_5={result['p_at_5']:.3f} "
        f"hard_negative_share={result['hard_negative_share']:.3f} b3_precision={precision:.3f} "
        f"b3_recall={recall:.3f} b3_f1={f1:.3f} ms_per_article={ms_per_article:.1f}"
    )


if __name__ == "__main__":
    main()
