"""Hostile inputs and the harness that runs them through the real pipeline.

Shared by the tests (test_faults, test_ssrf, test_robustness, test_xss) and
bench/robustness.py, which prints the same tallies for every threat class.
"""

import functools
import re
import signal
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote

from tests.localserver import Route

HANG_SECONDS = 30
SKIP_NAMES = re.compile(r"^(LICENSE.*|manifest\.json|README.*)$")


@functools.cache
def gzip_bomb(inflated=1 << 30):
    """About 1 MiB of gzip that inflates to `inflated` bytes of zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(inflated >> 20)]
    return b"".join(parts) + compressor.flush()


def drip(handler):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.end_headers()
    try:
        for _ in range(600):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.05)
    except OSError:
        pass


def endless_redirect(handler):
    n = int(handler.path.rsplit("/", 1)[1])
    return Route(b"", 302, {"Location": f"/loop/{n + 1}"})


def loopback_spellings(port):
    """Every way to write the forbidden server's address that still means loopback."""
    return [
        f"http://127.0.0.1:{port}/secret",
        f"http://localhost:{port}/secret",
        f"http://2130706433:{port}/secret",
        f"http://0x7f.1:{port}/secret",
        f"http://0x7f000001:{port}/secret",
        f"http://017700000001:{port}/secret",
        f"http://127.1:{port}/secret",
        f"http://127.0.0.2:{port}/secret",
        f"http://[::1]:{port}/secret",
        f"http://[::ffff:127.0.0.1]:{port}/secret",
        f"http://[::ffff:7f00:1]:{port}/secret",
        f"http://user:pass@127.0.0.1:{port}/secret",
    ]


class Hung(Exception):
    pass


@dataclass
class Tally:
    name: str
    counts: Counter = field(default_factory=Counter)
    problems: list = field(default_factory=list)

    def add(self, outcome, detail=""):
        self.counts["tried"] += 1
        self.counts[outcome] += 1
        if outcome in ("crashed", "hung"):
            self.problems.append(detail)

    def line(self):
        c = self.counts
        return (
            f"{self.name} tried={c['tried']} ingested={c['ingested']} refused={c['refused']} "
            f"crashed={c['crashed']} hung={c['hung']}"
        )


def bounded(function, seconds=HANG_SECONDS):
    """Run `function`; ("hung", None) past `seconds`, ("crashed", exc) on an exception."""

    def alarm(signum, frame):
        raise Hung()

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        return "done", function()
    except Hung:
        return "hung", None
    except Exception as exc:  # the point: nothing may escape unrecorded
        return "crashed", exc
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def ingest_one(source):
    from articles.ingest import ingest_source

    def run():
        result = ingest_source(source)
        source.refresh_from_db()
        return result

    state, value = bounded(run)
    if state != "done":
        return state, repr(value)
    if value.status in ("ok", "not_modified"):
        return "ingested", ""
    return ("refused", source.last_error) if source.last_error else ("crashed", "no reason")


# -- robustness corpus ------------------------------------------------------------


def corpus_feed_files(corpus):
    for folder in ("feeds-robustness", "feeds"):
        for path in sorted((corpus / folder).rglob("*")):
            if path.is_file() and not SKIP_NAMES.match(path.name):
                yield path


def run_corpus(server, corpus):
    from tests.factories import make_source

    tally = Tally("robustness-corpus")
    for n, path in enumerate(corpus_feed_files(corpus)):
        url = server.add(f"/corpus/{n}", path.read_bytes(), content_type="application/xml")
        source = make_source(feed_url=url, name=path.name[:200])
        outcome, detail = ingest_one(source)
        tally.add(outcome, f"{path}: {detail}")
    return tally


# -- faults -----------------------------------------------------------------------


def run_faults(server):
    from tests.factories import make_source

    bomb = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "' + "x" * 5000 + '">]>'
        "<rss><channel><title>" + "&a;" * 5000 + "</title></channel></rss>"
    )
    server.add("/f/500", "boom", status=500)
    server.add("/f/429", "slow down", status=429, Retry_After="120")
    server.add("/f/503", "busy", status=503, Retry_After="Wed, 21 Oct 2037 07:28:00 GMT")
    server.add("/f/410", "gone", status=410)
    server.add("/f/empty", b"", content_type="application/rss+xml")
    server.add("/f/bomb", gzip_bomb(), content_type="application/xml", Content_Encoding="gzip")
    server.add("/f/entities", bomb, content_type="application/xml")
    server.add("/f/html", "<html><body>not a feed</body></html>")
    server.add("/f/binary", bytes(range(256)) * 64, content_type="application/octet-stream")
    server.routes["/f/drip"] = drip
    server.routes.update({f"/loop/{n}": endless_redirect for n in range(20)})
    paths = ["/f/500", "/f/429", "/f/503", "/f/410", "/f/empty", "/f/bomb", "/f/entities",
             "/f/html", "/f/binary", "/f/drip", "/loop/0", "/f/missing-404"]
    tally = Tally("faults")
    for path in paths:
        outcome, detail = ingest_one(make_source(feed_url=server.base + path))
        tally.add(outcome, f"{path}: {detail}")
    return tally


# -- SSRF -------------------------------------------------------------------------


def run_ssrf(server, forbidden):
    from articles.pipeline import extract_article
    from articles.models import Article
    from tests.factories import make_source

    targets = loopback_spellings(forbidden.port)
    hops = [server.add(f"/hop/{n}", b"", status=302, Location=t) for n, t in enumerate(targets)]
    links = targets + hops
    items = "".join(
        f"<item><title>Item {n}</title><link>{escape(link)}</link>"
        f"<guid isPermaLink='false'>ssrf-{n}</guid></item>"
        for n, link in enumerate(links)
    )
    feed = server.add(
        "/ssrf.xml", f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>",
        content_type="application/rss+xml",
    )
    source = make_source(feed_url=feed)
    ingest_one(source)
    tally = Tally("ssrf")
    for article in Article.objects.filter(source=source):
        state, value = bounded(lambda: extract_article(article.pk))
        article.refresh_from_db()
        if state != "done":
            tally.add(state, f"{article.url}: {value!r}")
        elif "Refused" in article.state_reason:
            tally.add("refused")
        else:
            tally.add("ingested", article.url)
    # Feed URLs that lead into private space.
    for hop in hops:
        tally.add(*ingest_one(make_source(feed_url=hop)))
    if forbidden.requests:
        tally.counts["ingested"] += len(forbidden.requests)
    return tally


# -- XSS --------------------------------------------------------------------------

ON_ATTRIBUTE = re.compile(r"^on", re.I)
BAD_URL = re.compile(r"^\s*(javascript|vbscript|data):", re.I)


def unsafe_markup(html):
    """What in a page could run script: on* attributes, script URLs, foreign scripts."""
    import lxml.html

    problems = []
    tree = lxml.html.fromstring(html)
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "script" and not (element.get("src") or "").startswith("/static/"):
            if element.get("type") != "application/ld+json":
                problems.append("script element")
        if element.tag in ("iframe", "object", "embed", "frame", "base"):
            problems.append(f"<{element.tag}>")
        for name, value in element.attrib.items():
            if ON_ATTRIBUTE.match(name):
                problems.append(f"{name} attribute")
            cleaned = re.sub(r"[\x00-\x20]", "", value)
            if name in ("href", "src", "action", "formaction", "xlink:href", "srcset"):
                if BAD_URL.match(cleaned):
                    problems.append(f"{name}={value[:40]}")
        if element.tag == "meta" and element.get("http-equiv"):
            # Only a refresh can turn a meta content into a navigation.
            problems.append(f"meta http-equiv={element.get('http-equiv')}")
    return problems


def xss_payloads(corpus, limit=None):
    lines = (corpus / "xss" / "payloadbox-xss-payload-list.txt").read_text(
        encoding="utf-8", errors="replace"
    ).splitlines()
    payloads = [line for line in lines if line.strip()]
    return payloads[:limit] if limit else payloads


def cdata(text):
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def xss_feed(server, payloads, start, per_feed=250):
    """A feed of one item per payload: in title, author, summary, content and links."""
    items = []
    for n, payload in enumerate(payloads, start):
        content = f'<p>Story {n}</p>{payload}<a href="{payload}">link</a>'
        items.append(
            f"<item><title>{escape(payload)}</title>"
            f"<link>{server.base}/x/{n}?q={quote(payload)}</link>"
            f"<guid isPermaLink='false'>xss-{n}</guid>"
            f"<author>{escape(payload)}</author>"
            f"<description>{escape(payload)}</description>"
            f"<content:encoded>{cdata(content)}</content:encoded>"
            "</item>"
        )
    return (
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>XSS feed</title><link>{server.base}/</link>{''.join(items)}</channel></rss>"
    )


def xss_page(payloads):
    """An article page carrying payloads in its head, byline and body."""
    head = payloads[0]
    body = "".join(f"<p>Paragraph {n} of a long report. {p}</p>" for n, p in enumerate(payloads))
    return (
        f"<html><head><title>{head}</title><meta name='author' content='{escape(head)}'>"
        f"<meta property='og:image' content='{escape(head)}'></head><body><article>"
        f"<h1>{head}</h1><p>By {head}</p>{body}</article></body></html>"
    )


def run_xss(server, corpus, client, limit=None, per_page=100, window=None):
    """Ingest every payload via feeds and pages; render each article and check it.

    window=(lo, hi) takes payloads lo to hi only (multiples of 250), so the list
    can be split over test workers; guids keep the payloads' own numbers.
    """
    from articles.pipeline import extract_article
    from articles.models import Article
    from tests.factories import make_source

    payloads = xss_payloads(corpus, limit)
    lo, hi = window or (0, len(payloads))
    hi = min(hi, len(payloads))
    tally = Tally("xss")
    feed_sources, per_feed = [], 250
    for start in range(lo, hi, per_feed):
        chunk = payloads[start : min(start + per_feed, hi)]
        url = server.add(f"/xss/feed-{start}.xml", xss_feed(server, chunk, start),
                         content_type="application/rss+xml")
        feed_sources.append(make_source(feed_url=url, use_feed_content=True))
    page_items = []
    for start in range(lo, hi, per_page):
        chunk = payloads[start : min(start + per_page, hi)]
        link = server.add(f"/xss/page-{start}.html", xss_page(chunk))
        page_items.append(
            f"<item><title>Page {start}</title><link>{link}</link>"
            f"<guid isPermaLink='false'>page-{start}</guid></item>"
        )
    page_feed = server.add(
        f"/xss/pages-{lo}.xml",
        f"<rss version='2.0'><channel><title>Pages</title>{''.join(page_items)}</channel></rss>",
        content_type="application/rss+xml",
    )
    page_source = make_source(feed_url=page_feed, name=payloads[lo][:200])
    for source in feed_sources + [page_source]:
        outcome, detail = ingest_one(source)
        if outcome != "ingested":
            tally.problems.append(f"feed {source.feed_url}: {outcome} {detail}")
    for article_id in Article.objects.values_list("pk", flat=True):
        state, value = bounded(lambda: extract_article(article_id))
        if state != "done":
            tally.problems.append(f"extract {article_id}: {state} {value!r}")
    pages = {}
    for article in Article.objects.visible():
        response = client.get(article.get_absolute_url())
        problems = unsafe_markup(response.content) if response.status_code == 200 else ["status"]
        pages[article.guid] = problems
    for n in range(lo, hi):
        feed_problems = pages.get(f"xss-{n}")
        page_problems = pages.get(f"page-{n - n % per_page}")
        if feed_problems is None and page_problems is None:
            tally.add("refused")
        elif feed_problems or page_problems:
            tally.add("crashed", f"payload {n}: {feed_problems or page_problems}")
        else:
            tally.add("ingested")
    return tally
