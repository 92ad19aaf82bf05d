"""A synthetic archive for bench/pages.py, written with PostgreSQL's COPY.

    DATABASE_URL=postgres://... python bench/archive.py COUNT

Fills a migrated, empty database with COUNT ready articles, one a minute
back from now, in the shape of a real one: 60 sources in 6 categories,
stories of three, six related links an article, three comments on every
fourth, term vectors, and postings for the days relating still reads.
Texts come from a vocabulary of 30,000 words drawn by Zipf's law plus 20
topic words a category, of which each article takes 4: a two-word query of
one category's topics matches about 0.5% of the archive. Each stream writes
up to 2,000 texts a category and draws from them (titles made unique). The articles go in
by two COPY streams at once (both cores), each row through the app's own
search trigger; the search's GIN index is built once at the end, as a bulk
load would. Prints the seconds each step took on stderr.
"""

import hashlib
import itertools
import json
import multiprocessing
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone

import psycopg

TOPICS = (
    "government minister election council parliament vote budget tax spending report "
    "talks peace ceasefire army troops protest border police court judge",
    "inflation rates market company profit shares workers strike union trade exports "
    "tariffs prices fuel oil gas bank spending data harvest",
    "phone software security breach users network chip launch satellite rocket space data "
    "energy power wind solar battery cloud robot code",
    "research scientists study climate drought flood storm river water harbour hospital "
    "doctor patients vaccine species ocean glacier fossil telescope",
    "team match final league season coach player goal stadium cup title injury transfer "
    "striker keeper record medal race olympic tennis",
    "museum film festival music concert theatre book award artist album painting novel "
    "gallery opera dance poet actor director premiere exhibition",
)
CATEGORIES = ("World", "Business", "Technology", "Science", "Sport", "Culture")
SOURCES = 60
STREAMS = 2
TOPIC_WORDS = 4
SYLLABLES = "ka lo mi re su ta ne vo pi da gu el an or is ut ber con dis est for gen han".split()


def topics():
    return [line.split() for line in TOPICS]


def vocabulary(rng, size=30_000):
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    words = sorted(words)
    rng.shuffle(words)
    # Zipf's law: the n-th word is drawn in proportion to 1/n.
    weights = list(itertools.accumulate(1 / (n + 1) for n in range(size)))
    return words, weights


def sentence_pool(rng, size=50_000):
    words, weights = vocabulary(rng)
    return [
        " ".join(rng.choices(words, cum_weights=weights, k=rng.randint(8, 18)))
        for _ in range(size)
    ]


def article_text(rng, pool, topic):
    """(title, summary, body, body HTML, term vector JSON, key points JSON) of one article."""
    sentences = []
    for line in rng.choices(pool, k=rng.randint(8, 20)):
        if rng.random() < 0.5:
            line = f"{rng.choice(topic)} {line}"
        sentences.append(line.capitalize() + ".")
    title = " ".join([*rng.sample(topic, 2), *rng.choice(pool).split()[:6]]).capitalize()
    body = "\n".join(sentences)
    words = dict.fromkeys(body.lower().replace(".", "").split())
    terms = {word: round(rng.random() / 10, 4) for word in itertools.islice(words, 120)}
    html = "".join(f"<p>{line}</p>" for line in sentences)
    return title, body[:300], body, html, json.dumps(terms), json.dumps(sentences[:3])


def texts(rng, per_category):
    """Articles' texts to draw from, by category: writing each anew made the fill Python-bound."""
    pool = sentence_pool(random.Random(0))  # one vocabulary for every stream
    return [
        [article_text(rng, pool, rng.sample(words, TOPIC_WORDS)) for _ in range(per_category)]
        for words in topics()
    ]


def database_url():
    return os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)


ARTICLE_COLUMNS = (
    "id, guid, url, canonical_url, url_hash, slug, title, author, published_at, discovered_at,"
    " summary, feed_content_html, body_html, body_text, lead_image_url, language, word_count,"
    " terms, state, state_reason, extracted_at, extraction_attempts, claimed_until, is_hidden,"
    " source_id, story_id, key_points, comment_count, is_featured, copy_of_id, fingerprint,"
    " page_hash, page_validators, is_story_lead, relating_attempts, image_thumb, image_lead,"
    " image_status, page_retries, page_terms"
)


def copy_articles(stream, count, now, source_ids, first_id):
    """Stream `stream` of STREAMS writes every STREAMS-th article."""
    rng = random.Random(stream)
    by_category = texts(rng, min(2000, count // len(CATEGORIES) // STREAMS + 1))
    with psycopg.connect(database_url()) as connection, connection.cursor() as cursor:
        # Rows made consistent here: no trigger per row (foreign key checks,
        # the search trigger); index_for_search does the search's part after.
        cursor.execute("SET session_replication_role = replica")
        with cursor.copy(f"COPY articles_article ({ARTICLE_COLUMNS}) FROM STDIN") as copy:
            for n in range(stream, count, STREAMS):
                source = n % SOURCES
                title, summary, body, html, terms, key_points = rng.choice(
                    by_category[source % len(CATEGORIES)]
                )
                url = f"https://source-{source}.example/{n}"
                published = now - timedelta(minutes=n)
                copy.write_row((
                    first_id + n, url, url, url, hashlib.sha256(url.encode()).hexdigest(),
                    f"article-{n}", f"{title} {n}", "", published, published, summary, "",
                    html, body, "https://img.example/a.jpg" if n % 3 else "", "en",
                    len(body.split()), terms, "ready", "", published, 1, None, False,
                    source_ids[source], n // 3 + 1, key_points, 3 if n % 4 == 0 else 0, False,
                    None, "", "", "{}", n % 3 == 0, 0,
                    *((f"images/{n}-thumb.webp", f"images/{n}-lead.webp", "stored") if n % 3
                      else ("", "", "")),
                    0, "{}",
                ))


def index_for_search(stream):
    """The search trigger's rows, for this stream's articles, in one statement."""
    with psycopg.connect(database_url(), autocommit=True) as connection:
        connection.execute(
            "INSERT INTO articles_searchentry (article_id, source_id, published_at, month, vector)"
            " SELECT id, source_id, published_at, articles_month(published_at),"
            " setweight(to_tsvector('english', title), 'A')"
            " || setweight(to_tsvector('english', summary), 'B')"
            " || setweight(to_tsvector('english', body_text), 'C')"
            " FROM articles_article WHERE id %% %s = %s",
            [STREAMS, stream],
        )


def step(label, started):
    print(f"  {label}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    return time.monotonic()


def fill(count):
    """Write the archive; returns the number of stories."""
    now = datetime.now(timezone.utc)
    started = time.monotonic()
    with psycopg.connect(database_url(), autocommit=True) as connection:
        run = connection.execute
        run("INSERT INTO articles_category (name, slug) SELECT name, lower(name)"
            " FROM unnest(%s::text[]) AS c (name)", [list(CATEGORIES)])
        category_ids = [row[0] for row in run("SELECT id FROM articles_category ORDER BY id")]
        run(
            "INSERT INTO articles_source (name, slug, feed_url, site_url, category_id, language,"
            " is_active, use_feed_content, min_interval, max_interval, etag, last_modified,"
            " consecutive_failures, last_error, created_at, display_policy, last_notes)"
            " SELECT 'Source ' || n, 'source-' || n, 'https://source-' || n || '.example/feed',"
            " '', (%s::bigint[])[n %% 6 + 1], 'en', true, false, '10 minutes', '6 hours', '', '',"
            " 0, '', now(), 'full', '' FROM generate_series(0, %s) AS n",
            [category_ids, SOURCES - 1],
        )
        source_ids = [row[0] for row in run("SELECT id FROM articles_source ORDER BY id")]
        run(
            "INSERT INTO auth_user (username, password, is_superuser, first_name, last_name,"
            " email, is_staff, is_active, date_joined)"
            " SELECT 'reader' || n, '!', false, '', '', '', false, true, now()"
            " FROM generate_series(0, 19) AS n"
        )
        user_ids = [row[0] for row in run("SELECT id FROM auth_user ORDER BY id")]
        stories = (count + 2) // 3
        # Every three consecutive articles form a story, led by the first.
        run(
            "INSERT INTO articles_story (id, source_count, article_count, first_published_at,"
            " updated_at, additions, additions_stale) SELECT n, 3, 3,"
            " %s - (n * 3) * interval '1 minute', %s - (n * 3 - 3) * interval '1 minute',"
            " '{}', false FROM generate_series(1, %s) AS n",
            [now, now, stories],
        )
        run("SELECT setval(pg_get_serial_sequence('articles_story', 'id'), %s)", [stories])
        # Built once at the end, as a bulk load would.
        gin = run("SELECT indexdef FROM pg_indexes WHERE indexname = 'searchentry_month_lexemes'")
        gin = gin.fetchone()[0]
        run("DROP INDEX searchentry_month_lexemes")
    started = step("sources and stories", started)

    first_id = 1
    with multiprocessing.Pool(STREAMS) as workers:
        workers.starmap(copy_articles, [(s, count, now, source_ids, first_id)
                                        for s in range(STREAMS)])
        started = step(f"{count} articles, {STREAMS} streams", started)
        workers.map(index_for_search, range(STREAMS))
    started = step("search entries", started)

    with psycopg.connect(database_url(), autocommit=True) as connection:
        run = connection.execute
        run("SELECT setval(pg_get_serial_sequence('articles_article', 'id'), %s)",
            [first_id + count])
        run("UPDATE articles_story SET lead_article_id = (id - 1) * 3 + %s", [first_id])
        run("SET maintenance_work_mem = '1GB'")
        run(gin)
        started = step("story leads and the search index", started)
        with connection.cursor() as cursor:
            with cursor.copy("COPY articles_relatedlink (from_article_id, to_article_id, score)"
                             " FROM STDIN") as copy:
                for n in range(count):
                    for offset in range(1, 7):
                        other = (n + offset * 7) % count
                        copy.write_row((first_id + n, first_id + other, 1 / offset))
            started = step("related links", started)
            rng = random.Random(count)
            pool = sentence_pool(random.Random(1), 2000)
            with cursor.copy("COPY articles_comment (article_id, user_id, body, created_at,"
                             " is_public, ip_hash) FROM STDIN") as copy:
                for n in range(0, count, 4):
                    for reply in range(3):
                        copy.write_row((first_id + n, user_ids[(n + reply) % len(user_ids)],
                                        rng.choice(pool).capitalize() + ".", now, True, ""))
            # The postings relating still reads: the newest week and a day.
            with cursor.copy("COPY articles_articleterm (article_id, term, weight, published_at)"
                             " FROM STDIN") as copy:
                for n in range(min(count, 8 * 24 * 60)):
                    published = now - timedelta(minutes=n)
                    for term in range(30):
                        copy.write_row((first_id + n, f"w{(n * 7 + term * 13) % 5000}",
                                        0.1, published))
        started = step("comments and postings", started)
        run("VACUUM ANALYZE")
        step("vacuum and analyze", started)
    return stories


if __name__ == "__main__":
    print(fill(int(sys.argv[1])))
