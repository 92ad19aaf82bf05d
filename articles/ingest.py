"""A source's feed bytes -> normalised entries -> Article rows, idempotently."""

import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from .encoding import feed_as_utf8
from .fetch import FEED_ACCEPT, HTML_TYPES, FetchError, HostBusy, fetch
from .models import Article, FetchLog, Source, Tag
from .sanitize import clean_html, plain_text, safe_url
from .outages import outage_retry_at
from .sources import record_failure, record_success, save_fetch_state, switch_feed_url
from .xmlguard import declares_entities

logger = logging.getLogger(__name__)

TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_hsenc|_hsmi|"
    r"mkt_tok|cmpid|ocid|smid|sr_share|at_medium|at_campaign|taid)$",
    re.IGNORECASE,
)
MAX_ENTRIES = 500
MAX_TAGS = 8
KEEP_LOGS = 100


class FeedRefused(Exception):
    pass


@dataclass
class Entry:
    guid: str
    url: str
    title: str
    author: str = ""
    published_at: datetime | None = None
    summary: str = ""
    content_html: str = ""
    image_url: str = ""
    tags: list = field(default_factory=list)


@dataclass
class ParsedFeed:
    title: str = ""
    link: str = ""
    language: str = ""
    ttl_minutes: int | None = None
    entries: list = field(default_factory=list)
    problem: str = ""
    # Entries not stored, by reason: nothing is dropped without a record.
    refused: Counter = field(default_factory=Counter)
    # WebSub: the feed's hub and its own URL (rel="hub", rel="self").
    hub_url: str = ""
    self_url: str = ""


@dataclass
class IngestResult:
    status: str
    new_article_ids: list = field(default_factory=list)
    entries: int = 0
    error: str = ""
    refused: int = 0
    notes: str = ""
    hub_url: str = ""
    self_url: str = ""


def canonicalize_url(url):
    """The URL without fragment and tracking parameters, host lower-cased."""
    parts = urlsplit(url.strip())
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(key)
    ]
    netloc = parts.netloc.lower()
    if (parts.scheme == "http" and netloc.endswith(":80")) or (
        parts.scheme == "https" and netloc.endswith(":443")
    ):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))


def struct_to_datetime(value):
    # feedparser normalises every date it understands to a UTC 9-tuple.
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def parse_feed(content: bytes, base_url=""):
    """Feed bytes -> ParsedFeed. Pure: no I/O, never given a str (see module doc)."""
    if not isinstance(content, bytes):
        raise TypeError("parse_feed takes bytes: feedparser given a str may open URLs or files.")
    # Decoded first: a feed labelled UTF-8 in another charset, or in UTF-16,
    # reaches the entity guard and feedparser as the text it holds.
    content = feed_as_utf8(content)
    if declares_entities(content):
        raise FeedRefused("Refused: the feed declares XML entities (<!ENTITY), a known attack.")
    parsed = feedparser.parse(content, response_headers={"content-location": base_url})
    feed = parsed.get("feed", {})
    result = ParsedFeed(
        title=plain_text(feed.get("title", ""), 200),
        link=safe_url(feed.get("link", "")),
        language=(feed.get("language") or "")[:12],
    )
    for link in feed.get("links", []):
        rel, href = link.get("rel"), safe_url(urljoin(base_url, (link.get("href") or "").strip()))
        if rel == "hub" and href and not result.hub_url:
            result.hub_url = href[:2000]
        elif rel == "self" and href and not result.self_url:
            result.self_url = href[:2000]
    ttl = str(feed.get("ttl", "")).strip()
    if ttl.isdigit():
        result.ttl_minutes = int(ttl)
    if parsed.get("bozo") and not parsed.entries:
        exc = parsed.get("bozo_exception")
        result.problem = f"Not a readable feed: {exc}" if exc else "Not a readable feed."
    items = newest_items(parsed.entries)
    result.refused[CUT] = len(parsed.entries) - len(items)
    for item in items:
        entry = normalise_entry(item, base_url)
        if entry is None:
            result.refused[BAD_LINK] += 1
        else:
            result.entries.append(entry)
    return result


CUT = f"cut at MAX_ENTRIES ({MAX_ENTRIES}), the newest kept"
BAD_LINK = "no http(s) link"
CONFLICTING_GUID = "a GUID already given to another link"


def item_time(item):
    return item.get("published_parsed") or ("updated" in item and item.get("updated_parsed")) or ()


def newest_items(items):
    """The MAX_ENTRIES newest items, in feed order; undated ones count as
    older than dated ones, and among themselves the first in the feed win."""
    if len(items) <= MAX_ENTRIES:
        return items
    ranked = sorted(range(len(items)), key=lambda i: (tuple(item_time(items[i])), -i), reverse=True)
    return [items[i] for i in sorted(ranked[:MAX_ENTRIES])]


def describe_refusals(refused):
    """'3 no http(s) link; 1 a GUID already ...': the fetch log's note."""
    return "; ".join(f"{count} {reason}" for reason, count in refused.items() if count)


def normalise_entry(item, base_url):
    link = item.get("link") or ""
    if not link:
        for candidate in item.get("links", []):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    link = safe_url(urljoin(base_url, link.strip())) if link else ""
    guid = (item.get("id") or "").strip()[:1000]
    if not link:
        # Entries with no http(s) link have no page to show or extract.
        return None
    title = plain_text(item.get("title", ""), 500)
    content_html = ""
    for content in item.get("content", []) or []:
        if content.get("value"):
            content_html = content["value"]
            break
    summary_html = item.get("summary", "") or ""
    image_url = ""
    for media in (item.get("media_content") or []) + (item.get("media_thumbnail") or []):
        if media.get("url") and media.get("medium", "image") == "image":
            image_url = safe_url(urljoin(base_url, media["url"]))
            if image_url:
                break
    if not image_url:
        for enclosure in item.get("enclosures", []) or []:
            if str(enclosure.get("type", "")).startswith("image/"):
                image_url = safe_url(urljoin(base_url, enclosure.get("href", "")))
                if image_url:
                    break
    tags = []
    for tag in item.get("tags", []) or []:
        name = plain_text(tag.get("term") or tag.get("label") or "", 60)
        # Some feeds put a whole path or URL in a category; keep words only.
        if name and "/" not in name and name.lower() not in {t.lower() for t in tags}:
            tags.append(name)
    return Entry(
        tags=tags[:MAX_TAGS],
        guid=guid or canonicalize_url(link),
        url=link,
        title=title or plain_text(summary_html, 120) or urlsplit(link).path,
        author=plain_text(item.get("author", ""), 300),
        published_at=struct_to_datetime(
            # Asking for a missing updated_parsed triggers a deprecated fallback.
            item.get("published_parsed") or ("updated" in item and item.get("updated_parsed"))
        ),
        summary=plain_text(summary_html or content_html, 1000),
        content_html=clean_html(content_html or summary_html),
        image_url=image_url,
    )


def upsert_entries(source, entries, now=None, refused=None):
    """Store entries as articles; returns the ids of rows created by this call, in feed order.

    Entries that reuse a GUID for another link are counted in `refused` (a Counter).

    A few statements per feed, whatever its length: one read of the rows
    already stored, one insert of the new ones, a few for their tags. Run
    inside the feed's transaction.
    """
    now = now or timezone.now()
    # Two runs of one feed (a poll and "Fetch now") take turns here, so the
    # rows each inserts are its own new articles, and only their ids go on
    # to extraction. On SQLite the write transaction already takes turns.
    if connection.features.has_select_for_update:
        list(Source.objects.select_for_update().filter(pk=source.pk).values_list("pk"))
    fresh = {}  # guid -> (entry, unsaved article); the first of duplicates wins
    hashes = {}  # url hash -> guid
    for entry in entries:
        article = Article(
            source=source,
            guid=entry.guid,
            canonical_url=canonicalize_url(entry.url),
            published_at=min(entry.published_at or now, now),
            discovered_at=now,
            lead_image_url=entry.image_url,
            language=source.language,
            **editable_fields(entry),
        )
        article.derive_keys()
        if entry.guid not in fresh and article.url_hash not in hashes:
            fresh[entry.guid] = (entry, article)
            hashes[article.url_hash] = entry.guid
        elif entry.guid in fresh and fresh[entry.guid][1].url_hash != article.url_hash:
            if refused is not None:
                refused[CONFLICTING_GUID] += 1
    stored = (
        Article.objects.filter(source=source)
        .filter(Q(guid__in=list(fresh)) | Q(url_hash__in=list(hashes)))
        .only("guid", "url_hash", *EDITABLE_FIELDS)
    )
    for existing in stored:
        guid = existing.guid if existing.guid in fresh else hashes.get(existing.url_hash)
        if guid not in fresh:
            continue  # matched by both guid and URL to entries already handled
        entry = fresh.pop(guid)[0]
        fields = editable_fields(entry)
        changed = {
            name: value for name, value in fields.items() if getattr(existing, name) != value
        }
        if changed:
            # Feeds seldom edit an entry: one UPDATE each is fine.
            Article.objects.filter(pk=existing.pk).update(**changed)
    if not fresh:
        return []
    created = Article.objects.bulk_create([article for _, article in fresh.values()])
    links = [(article.pk, entry.tags) for entry, article in fresh.values() if entry.tags]
    if links:
        Tag.objects.add_to_articles(links)
    return [article.pk for article in created]


EDITABLE_FIELDS = ("title", "url", "summary", "feed_content_html", "author")


def editable_fields(entry):
    """What a feed may change about a stored entry; the first-seen date is kept."""
    fields = {
        "title": entry.title,
        "url": entry.url,
        "summary": entry.summary,
        "feed_content_html": entry.content_html,
    }
    if entry.author:
        fields["author"] = entry.author
    return fields


def ingest_source(source: Source, now=None):
    """Fetch one source's feed and store its new entries; records the outcome."""
    now = now or timezone.now()
    started = time.monotonic()
    result = fetch_and_store(source, now)
    with transaction.atomic():
        FetchLog.objects.create(
            source=source,
            fetched_at=now,
            outcome=result.status,
            status=source.last_status,
            new_articles=len(result.new_article_ids),
            entries=result.entries,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=result.error[:2000],
            refused=result.refused,
            notes=result.notes[:2000],
        )
        keep = FetchLog.objects.filter(source=source).values_list("pk", flat=True)[
            KEEP_LOGS : KEEP_LOGS + 1
        ]
        if keep:
            FetchLog.objects.filter(source=source, pk__lte=keep[0]).delete()
    return result


def fetch_and_store(source, now, following=True):
    try:
        response = fetch(
            source.feed_url,
            etag=source.etag,
            last_modified=source.last_modified,
            accept=FEED_ACCEPT,
        )
    except HostBusy as exc:
        # Every fetch slot of its host was taken: nothing was asked of the
        # feed, so no failure of its own. Asked again within a minute.
        save_fetch_state(source, next_fetch_at=outage_retry_at(now))
        return IngestResult(status="postponed", error=exc.reason)
    except FetchError as exc:
        record_failure(source, exc.reason, status=exc.status, now=now, retry_after=exc.retry_after)
        return IngestResult(status="failed", error=exc.reason)

    if response.not_modified:
        record_success(source, status=304, now=now, headers=response.headers)
        return IngestResult(status="not_modified")

    try:
        parsed = parse_feed(response.content, base_url=response.url)
    except FeedRefused as exc:
        record_failure(source, str(exc), status=response.status, now=now)
        return IngestResult(status="failed", error=str(exc))
    except Exception as exc:  # A parser bug must not take the worker down.
        logger.exception("Parsing %s failed", source.feed_url)
        reason = f"Parsing failed: {exc.__class__.__name__}: {exc}"[:500]
        record_failure(source, reason, status=response.status, now=now)
        return IngestResult(status="failed", error=reason)

    if parsed.problem and not parsed.entries:
        if response.content_type in HTML_TYPES and following:
            return follow_advertised_feed(source, response, now)
        record_failure(source, parsed.problem[:500], status=response.status, now=now)
        return IngestResult(status="failed", error=parsed.problem)

    # One transaction per feed: its rows appear together, with the validators
    # that say they were stored.
    with transaction.atomic():
        created = upsert_entries(source, parsed.entries, now=now, refused=parsed.refused)
        learned = {"site_url": parsed.link} if parsed.link and not source.site_url else {}
        notes = describe_refusals(parsed.refused)
        record_success(
            source, status=response.status, now=now, headers=response.headers,
            ttl_minutes=parsed.ttl_minutes, etag=response.etag,
            last_modified=response.last_modified, last_notes=notes[:2000], **learned,
        )
    return IngestResult(
        status="ok", new_article_ids=created, entries=len(parsed.entries),
        refused=sum(parsed.refused.values()), notes=notes,
        hub_url=parsed.hub_url, self_url=parsed.self_url,
    )


def store_pushed_feed(source, content, now=None):
    """Feed bytes a hub pushed (signature checked): new entries stored, as from a fetch.

    The fetch state (validators, next fetch) is left alone: the next poll
    asks the feed itself as before.
    """
    now = now or timezone.now()
    try:
        parsed = parse_feed(content, base_url=source.feed_url)
    except FeedRefused as exc:
        return IngestResult(status="failed", error=str(exc))
    except Exception as exc:  # A parser bug must not fail the hub's request.
        logger.exception("Parsing a push for %s failed", source.feed_url)
        return IngestResult(status="failed", error=f"Parsing failed: {exc.__class__.__name__}")
    if parsed.problem and not parsed.entries:
        return IngestResult(status="failed", error=parsed.problem)
    with transaction.atomic():
        created = upsert_entries(source, parsed.entries, now=now, refused=parsed.refused)
        FetchLog.objects.create(
            source=source, fetched_at=now, outcome="pushed", status=200,
            new_articles=len(created), entries=len(parsed.entries), duration_ms=0,
        )
    return IngestResult(status="ok", new_article_ids=created, entries=len(parsed.entries))


def follow_advertised_feed(source, response, now):
    """The feed URL is a web page (a pasted homepage, an OPML file of site
    addresses): the one feed it offers becomes the source's, and is read
    now; several are listed for an editor to choose from."""
    from .discovery import discover_feeds  # discovery parses with this module

    feeds = discover_feeds(source.feed_url, response)
    if len(feeds) == 1 and not Source.objects.filter(feed_url=feeds[0].url).exists():
        switch_feed_url(source, feeds[0].url)
        return fetch_and_store(source, now, following=False)
    if feeds:
        listed = "; ".join(f"{feed.title or 'untitled'} <{feed.url}>" for feed in feeds)
        reason = f"A web page, not a feed. It offers: {listed}. Choose one as the feed URL."
    else:
        reason = "A web page, not a feed, and no feed was found on it or at the usual paths."
    record_failure(source, reason[:2000], status=response.status, now=now)
    return IngestResult(status="failed", error=reason)
