"""A small offline "news web": fictional sites with RSS feeds, article pages and images."""

import argparse
import functools
import hashlib
import io
import json
import os
import re
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from PIL import Image, ImageColor, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
SOURCES_FILE = HERE / "sources.json"
ARTICLES_DIR = HERE / "articles"
BANNER = "Sample content written for the Lede demo — not real news"
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SECTIONS = {
    "World": ("World", "Politics", "Business", "Science", "Opinion"),
    "Business": ("Markets", "Companies", "Economy", "Technology", "Opinion"),
    "Technology": ("Hardware", "Software", "Business", "Science", "Reviews"),
    "Science": ("Space", "Climate", "Health", "Nature", "Explainers"),
    "Sport": ("Football", "Cricket", "Tennis", "Athletics", "Results"),
    "Culture": ("Theatre", "Music", "Books", "Film", "Reviews"),
}
RSS_NAMESPACES = (
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:media="http://search.yahoo.com/mrss/" '
    'xmlns:atom="http://www.w3.org/2005/Atom"'
)


@dataclass
class Source:
    slug: str
    name: str
    category: str
    language: str
    tagline: str


@dataclass
class Article:
    source: str
    slug: str
    title: str
    author: str
    hours_ago: float
    summary: str
    paragraphs: list
    image: dict | None = None
    story: str | None = None
    published: datetime | None = None


# --- Loading -----------------------------------------------------------------


def load_sources(path=SOURCES_FILE):
    return {item["slug"]: Source(**item) for item in json.loads(path.read_text("utf-8"))}


def article_problem(data, sources):
    """Why a parsed article file cannot be served, or "" when it can."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if data.get("source") not in sources:
        return f"unknown source {data.get('source')!r}"
    if not SLUG.match(str(data.get("slug", ""))):
        return f"bad slug {data.get('slug')!r}"
    for key in ("title", "author", "summary"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            return f"missing {key}"
    if not isinstance(data.get("hours_ago"), (int, float)):
        return "hours_ago is not a number"
    paragraphs = data.get("paragraphs")
    if not paragraphs or not all(isinstance(p, str) for p in paragraphs):
        return "paragraphs must be a non-empty list of strings"
    image = data.get("image")
    if image is not None and not (
        isinstance(image, dict)
        and isinstance(image.get("hue"), int)
        and isinstance(image.get("label"), str)
    ):
        return "image must be null or {hue, label}"
    return ""


def load_articles(sources, directory=ARTICLES_DIR, now=None):
    """Every valid article file, newest first; broken files are reported and skipped."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    fields = set(Article.__dataclass_fields__) - {"published"}
    articles, seen = [], set()
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            report(f"skipped {path.name}: {exc}")
            continue
        problem = article_problem(data, sources)
        key = (data.get("source"), data.get("slug")) if isinstance(data, dict) else None
        if not problem and key in seen:
            problem = "duplicate source and slug"
        if problem:
            report(f"skipped {path.name}: {problem}")
            continue
        seen.add(key)
        article = Article(**{k: v for k, v in data.items() if k in fields})
        article.published = now - timedelta(hours=article.hours_ago)
        articles.append(article)
    articles.sort(key=lambda a: a.published, reverse=True)
    return articles


def report(message):
    print(f"demo: {message}", file=sys.stderr)


class SampleWeb:
    """The loaded sources and articles, indexed for the request handlers."""

    def __init__(self, sources, articles, started=None):
        self.started = started or datetime.now(UTC)
        self.sources = sources
        self.articles = articles
        self.by_key = {(a.source, a.slug): a for a in articles}

    def of_source(self, slug):
        return [a for a in self.articles if a.source == slug]


# --- URLs and small helpers --------------------------------------------------


def site_url(base, source):
    return f"{base}/{source.slug}/"


def feed_url(base, source):
    return f"{base}/{source.slug}/feed.xml"


def article_url(base, article):
    return f"{base}/{article.source}/{article.slug}.html"


def image_url(base, article):
    return f"{base}/{article.source}/images/{article.slug}.png"


def human_date(moment):
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


def time_tag(moment):
    return f'<time datetime="{moment.isoformat()}">{human_date(moment)}</time>'


def link(url, text):
    return f'<a href="{escape(url)}">{escape(text)}</a>'


# --- OPML and RSS ------------------------------------------------------------


def render_opml(web, base):
    outlines = "\n".join(
        "    <outline type=\"rss\" text={name} title={name} xmlUrl={feed} htmlUrl={site} "
        "category={category} language={language}/>".format(
            name=quoteattr(s.name),
            feed=quoteattr(feed_url(base, s)),
            site=quoteattr(site_url(base, s)),
            category=quoteattr(s.category),
            language=quoteattr(s.language),
        )
        for s in web.sources.values()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<opml version="2.0">\n'
        "  <head>\n"
        "    <title>Lede demo: sample news web</title>\n"
        f"    <dateCreated>{format_datetime(web.started, usegmt=True)}</dateCreated>\n"
        "  </head>\n"
        "  <body>\n"
        f"{outlines}\n"
        "  </body>\n"
        "</opml>\n"
    )


def guid_of(article):
    return f"{article.source}/{article.slug}"


def render_item(base, source, article):
    lines = [
        "    <item>",
        f"      <title>{xml_escape(article.title)}</title>",
        f"      <link>{xml_escape(article_url(base, article))}</link>",
        f'      <guid isPermaLink="false">{xml_escape(guid_of(article))}</guid>',
        f"      <pubDate>{format_datetime(article.published, usegmt=True)}</pubDate>",
        f"      <dc:creator>{xml_escape(article.author)}</dc:creator>",
        f"      <category>{xml_escape(source.category)}</category>",
        f"      <description>{xml_escape(article.summary)}</description>",
    ]
    if article.image:
        lines.append(
            f'      <media:content url={quoteattr(image_url(base, article))} '
            'medium="image" type="image/png" width="1200" height="630"/>'
        )
    lines.append("    </item>")
    return "\n".join(lines)


def render_feed(web, base, source):
    articles = web.of_source(source.slug)
    newest = articles[0].published if articles else datetime.now(UTC)
    items = "\n".join(render_item(base, source, a) for a in articles)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" {RSS_NAMESPACES}>\n'
        "  <channel>\n"
        f"    <title>{xml_escape(source.name)}</title>\n"
        f"    <link>{xml_escape(site_url(base, source))}</link>\n"
        f"    <description>{xml_escape(source.tagline)}</description>\n"
        f"    <language>{xml_escape(source.language)}</language>\n"
        f"    <lastBuildDate>{format_datetime(newest, usegmt=True)}</lastBuildDate>\n"
        f"    <atom:link href={quoteattr(feed_url(base, source))} "
        'rel="self" type="application/rss+xml"/>\n'
        f"{items}\n"
        "  </channel>\n"
        "</rss>\n"
    )


# --- HTML --------------------------------------------------------------------

STYLE = """
body{margin:0;font:17px/1.6 Georgia,serif;color:#1d1d1f;background:#fafaf7}
header.site{background:#1f2a36;color:#fff;padding:14px 24px}
header.site a{color:#fff;text-decoration:none}
.masthead{font-size:28px;font-weight:bold}
.tagline{font-size:14px;opacity:.8}
nav ul{list-style:none;margin:8px 0 0;padding:0;display:flex;gap:18px;font:14px sans-serif}
.banner{background:#fff3c4;border-bottom:1px solid #e6d48a;padding:6px 24px;font:14px sans-serif}
main{max-width:760px;margin:0 auto;padding:24px}
.byline{font:14px sans-serif;color:#555}
figure{margin:20px 0}
figure img{width:100%;height:auto;display:block}
aside{max-width:760px;margin:0 auto;padding:0 24px 24px;font:15px sans-serif}
footer{background:#eee;color:#555;padding:16px 24px;font:13px sans-serif}
""".strip()


def page(title, head_extra, body, source=None, base=""):
    """A whole HTML document around `body`, with the site chrome of `source`."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n'
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f"{head_extra}"
        f"<style>{STYLE}</style>\n"
        "</head>\n<body>\n"
        f"{site_header(source, base)}"
        f'<div class="banner" role="note">{escape(BANNER)}</div>\n'
        f"{body}"
        f"{site_footer(source)}"
        "</body>\n</html>\n"
    )


def site_header(source, base):
    if source is None:
        return '<header class="site"><div class="masthead">Sample news web</div></header>\n'
    home = site_url(base, source)
    links = [f'<li><a href="{escape(home)}">Home</a></li>'] + [
        f'<li><a href="{escape(home)}?section={name.lower()}">{escape(name)}</a></li>'
        for name in SECTIONS.get(source.category, SECTIONS["World"])
    ]
    return (
        '<header class="site">\n'
        f'<div class="masthead"><a href="{escape(home)}">{escape(source.name)}</a></div>\n'
        f'<div class="tagline">{escape(source.tagline)}</div>\n'
        f'<nav aria-label="Sections"><ul>{"".join(links)}</ul></nav>\n'
        "</header>\n"
    )


def site_footer(source):
    owner = source.name if source else "The sample news web"
    return (
        "<footer>\n"
        f"<p>© {datetime.now(UTC).year} {escape(owner)}. All rights reserved. "
        "Reproduction without permission is prohibited.</p>\n"
        "<p>Every story, person, place and company on this site is fictional sample "
        "content written for the Lede demo.</p>\n"
        "</footer>\n"
    )


def article_head(base, source, article):
    url = article_url(base, article)
    published = article.published.isoformat()
    metas = [
        ("name", "description", article.summary),
        ("name", "author", article.author),
        ("property", "og:site_name", source.name),
        ("property", "og:title", article.title),
        ("property", "og:type", "article"),
        ("property", "og:url", url),
        ("property", "og:description", article.summary),
        ("property", "article:published_time", published),
        ("property", "article:section", source.category),
    ]
    if article.image:
        metas.append(("property", "og:image", image_url(base, article)))
    lines = [
        f'<meta {kind}="{escape(key)}" content="{escape(value)}">'
        for kind, key, value in metas
    ]
    lines.append(f'<link rel="canonical" href="{escape(url)}">')
    lines.append(feed_link(base, source))
    return "\n".join(lines) + "\n"


def feed_link(base, source):
    return (
        f'<link rel="alternate" type="application/rss+xml" '
        f'title="{escape(source.name)}" href="{escape(feed_url(base, source))}">'
    )


def render_article(web, base, article):
    source = web.sources[article.source]
    figure = ""
    if article.image:
        figure = (
            f'<figure><img src="{escape(image_url(base, article))}" '
            f'alt="{escape(article.image["label"])}" width="1200" height="630"></figure>\n'
        )
    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    body = (
        "<main>\n<article>\n"
        f"<h1>{escape(article.title)}</h1>\n"
        f'<p class="byline">By <span class="author">{escape(article.author)}</span> · '
        f"{time_tag(article.published)}</p>\n"
        f"{figure}{paragraphs}\n"
        "</article>\n</main>\n"
        f"{more_from(web, base, source, article)}"
    )
    head = article_head(base, source, article)
    return page(f"{article.title} | {source.name}", head, body, source, base)


def more_from(web, base, source, article):
    others = [a for a in web.of_source(source.slug) if a is not article][:3]
    if not others:
        return ""
    items = "".join(f"<li>{link(article_url(base, a), a.title)}</li>" for a in others)
    return (
        f'<aside class="more">\n<h2>More from {escape(source.name)}</h2>\n'
        f"<ul>{items}</ul>\n</aside>\n"
    )


def render_front(web, base, source):
    entries = "\n".join(
        f"<li><h2>{link(article_url(base, a), a.title)}</h2>"
        f"<p>{escape(a.summary)}</p>"
        f'<p class="byline">By {escape(a.author)} · {time_tag(a.published)}</p></li>'
        for a in web.of_source(source.slug)
    )
    body = (
        f"<main>\n<h1>Latest from {escape(source.name)}</h1>\n"
        f'<ul class="stories">\n{entries}\n</ul>\n</main>\n'
    )
    description = f'<meta name="description" content="{escape(source.tagline)}">'
    head = f"{description}\n{feed_link(base, source)}\n"
    return page(f"{source.name}: {source.tagline}", head, body, source, base)


def render_index(web, base):
    entries = "\n".join(
        f'<li><a href="{escape(site_url(base, s))}">{escape(s.name)}</a> ({escape(s.category)}): '
        f'{escape(s.tagline)} · <a href="{escape(feed_url(base, s))}">RSS</a></li>'
        for s in web.sources.values()
    )
    body = (
        f'<main>\n<h1>Sample news web</h1>\n<ul>\n{entries}\n</ul>\n'
        f'<p><a href="{escape(base)}/opml">All feeds as OPML</a></p>\n</main>\n'
    )
    return page("Sample news web", "", body)


# --- Images ------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def render_png(source_name, hue, label):
    """A 1200x630 PNG: a two-colour gradient, the label and the outlet's name.

    PNG, not SVG: the aggregator takes raster images only from a feed.
    """
    top = ImageColor.getrgb(f"hsl({hue % 360},62%,46%)")
    bottom = ImageColor.getrgb(f"hsl({(hue + 40) % 360},58%,18%)")
    mask = Image.linear_gradient("L").resize((1200, 630))
    image = Image.composite(Image.new("RGB", (1200, 630), bottom), Image.new("RGB", (1200, 630), top), mask)
    draw = ImageDraw.Draw(image)
    draw.ellipse((750, -140, 1270, 380), fill=tuple(min(255, c + 8) for c in top))
    # Shrink long labels so they stay inside the 1200px width.
    font = ImageFont.load_default(size=min(84, 1800 // max(len(label), 1)))
    draw.text((600, 315), label, fill="white", font=font, anchor="mm")
    draw.text((48, 590), source_name, fill="white", font=ImageFont.load_default(size=28), anchor="ls")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


# --- HTTP --------------------------------------------------------------------

ROUTES = [
    (re.compile(r"^/$"), "index"),
    (re.compile(r"^/robots\.txt$"), "robots"),
    (re.compile(r"^/opml$"), "opml"),
    (re.compile(r"^/(?P<source>[a-z0-9-]+)$"), "source_redirect"),
    (re.compile(r"^/(?P<source>[a-z0-9-]+)/$"), "front"),
    (re.compile(r"^/(?P<source>[a-z0-9-]+)/feed\.xml$"), "feed"),
    (re.compile(r"^/(?P<source>[a-z0-9-]+)/(?P<slug>[a-z0-9-]+)\.html$"), "article"),
    (re.compile(r"^/(?P<source>[a-z0-9-]+)/images/(?P<slug>[a-z0-9-]+)\.png$"), "image"),
]
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


def etag_of(body):
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(header, etag):
    if not header:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


class Handler(BaseHTTPRequestHandler):
    server_version = "SampleNewsWeb/1.0"

    def do_GET(self):
        self.dispatch(send_body=True)

    def do_HEAD(self):
        self.dispatch(send_body=False)

    def dispatch(self, send_body):
        path = urlsplit(self.path).path
        for pattern, name in ROUTES:
            match = pattern.match(path)
            if match:
                result = getattr(self, f"route_{name}")(**match.groupdict())
                if result is not None:
                    self.send(*result, send_body=send_body)
                    return
                break
        self.send(HTTPStatus.NOT_FOUND, "Not found\n", TEXT, send_body=send_body)

    @property
    def web(self):
        return self.server.web

    @property
    def base(self):
        return base_url(self.server)

    def route_index(self):
        return HTTPStatus.OK, render_index(self.web, self.base), HTML

    def route_robots(self):
        return HTTPStatus.OK, "User-agent: *\nAllow: /\n", TEXT

    def route_opml(self):
        return HTTPStatus.OK, render_opml(self.web, self.base), "text/x-opml; charset=utf-8"

    def route_source_redirect(self, source):
        if source not in self.web.sources:
            return None
        return HTTPStatus.MOVED_PERMANENTLY, "", "text/plain", {"Location": f"/{source}/"}

    def route_front(self, source):
        if source not in self.web.sources:
            return None
        return HTTPStatus.OK, render_front(self.web, self.base, self.web.sources[source]), HTML

    def route_feed(self, source):
        if source not in self.web.sources:
            return None
        body = render_feed(self.web, self.base, self.web.sources[source])
        return HTTPStatus.OK, body, "application/rss+xml; charset=utf-8"

    def route_article(self, source, slug):
        article = self.web.by_key.get((source, slug))
        if article is None:
            return None
        return HTTPStatus.OK, render_article(self.web, self.base, article), HTML

    def route_image(self, source, slug):
        article = self.web.by_key.get((source, slug))
        if article is None or not article.image:
            return None
        image = article.image
        png = render_png(self.web.sources[source].name, image["hue"], image["label"])
        return HTTPStatus.OK, png, "image/png"

    def send(self, status, text, content_type, headers=None, send_body=True):
        body = text if isinstance(text, bytes) else text.encode("utf-8")
        etag = etag_of(body) if status == HTTPStatus.OK else None
        if etag and etag_matches(self.headers.get("If-None-Match"), etag):
            status, body = HTTPStatus.NOT_MODIFIED, b""
        self.send_response(status)
        if etag:
            self.send_header("ETag", etag)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def log_message(self, format, *args):
        if os.environ.get("DEMO_VERBOSE"):
            super().log_message(format, *args)


class SampleWebServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, web):
        super().__init__(address, Handler)
        self.web = web


def base_url(server):
    host, port = server.server_address[:2]
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"  # a wildcard bind is reachable on loopback; it is no URL host
    return f"http://{host}:{port}"


def make_server(port=0, host="127.0.0.1"):
    """Load the content and bind; published times count back from this moment."""
    now = datetime.now(UTC).replace(microsecond=0)
    sources = load_sources()
    web = SampleWeb(sources, load_articles(sources, now=now), started=now)
    return SampleWebServer((host, port), web)


def serve_in_thread(port=0):
    server = make_server(port)
    threading.Thread(target=server.serve_forever, name="demo-web", daemon=True).start()
    return server


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    options = parser.parse_args(argv)
    server = make_server(options.port, options.host)
    count = len(server.web.articles)
    print(f"Sample news web on {base_url(server)}/ ({count} articles; Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
