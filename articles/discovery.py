"""A site's feeds, found from an address that is not one: the page's own
<link rel="alternate">, then the paths sites usually publish them at.

Every request goes through the guarded client, at most MAX_PROBES of them.
"""

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html

from .fetch import FEED_ACCEPT, FetchError, fetch
from .ingest import FeedRefused, ParsedFeed, parse_feed
from .sanitize import plain_text, safe_url

FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}
USUAL_PATHS = ("/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml")
MAX_PROBES = 6
MAX_ADVERTISED = 10


@dataclass
class FoundFeed:
    url: str
    title: str = ""
    feed: ParsedFeed | None = None  # as read when it was found


def advertised_feeds(html, base_url):
    """The feeds a page names in its <head>: [(url, title)], in page order."""
    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    found = []
    for link in tree.iterfind(".//link"):
        rels = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        url = safe_url(urljoin(base_url, (link.get("href") or "").strip()))
        if "alternate" in rels and kind in FEED_TYPES and url and url not in dict(found):
            found.append((url, plain_text(link.get("title") or "", 200)))
    return found[:MAX_ADVERTISED]


def readable_feed(response):
    """The parsed feed when the response is one a source can use, else None."""
    try:
        parsed = parse_feed(response.content, base_url=response.url)
    except FeedRefused:
        return None
    return parsed if parsed.entries or (parsed.title and not parsed.problem) else None


def discover_feeds(url, response=None):
    """[FoundFeed] for `url`: itself when it is a feed, else what its page points to.

    `response` is the page when the caller fetched it already. Raises
    FetchError when `url` itself cannot be fetched.
    """
    response = response or fetch(url, accept=FEED_ACCEPT)
    parsed = readable_feed(response)
    if parsed is not None:
        return [FoundFeed(url, parsed.title, parsed)]
    advertised = advertised_feeds(response.content, response.url)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(response.url))
    candidates = advertised or [(origin + path, "") for path in USUAL_PATHS]
    found = []
    for candidate, title in candidates[:MAX_PROBES]:
        try:
            parsed = readable_feed(fetch(candidate, accept=FEED_ACCEPT))
        except FetchError:
            continue
        if parsed is not None:
            found.append(FoundFeed(candidate, title or parsed.title, parsed))
    return found
