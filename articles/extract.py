"""Article page HTML -> text, metadata and a sanitised body (trafilatura, nh3)."""

import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from trafilatura import bare_extraction
from trafilatura.utils import load_html
from trafilatura.xml import xmltotxt

from . import extract_fallback
from .extract_clean import (
    clean_lines,
    drop_link_teasers,
    linked_blocks,
    prune_link_lists,
    strip_links,
)
from .extract_page_facts import choose_title, headline_keys, normal, read_page_facts
from .extract_reuse import conditional_headers, extracted_twin, page_hash, page_validators
from .extract_scope import add_split_pieces, drop_other_articles, json_ld_stand_in
from .fetch import FetchError, fetch
from .ingest import add_tags
from .models import MAX_EXTRACTION_ATTEMPTS, Article
from .sanitize import clean_html, paragraphs_to_html, plain_text, safe_url
from .search import search_vector_of
from .summary import key_points
from .text import text_fingerprint

logger = logging.getLogger(__name__)
extract_fallback.install()

HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
HTML_LANG = re.compile(rb"<html[^>]*?\slang\s*=\s*[\"']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)", re.I)
MIN_WORDS = 40


@dataclass
class Extraction:
    title: str = ""
    author: str = ""
    published_at: datetime | None = None
    lead_image_url: str = ""
    description: str = ""
    language: str = ""
    text: str = ""
    body_html: str = ""
    tags: list = field(default_factory=list)

    def as_json(self):
        data = asdict(self)
        data["published_at"] = self.published_at.isoformat() if self.published_at else None
        return data


def parse_date(value):
    """An ISO 8601 date or time as an aware datetime; None if it is not one.

    The offset is kept as given, so the date stays the publisher's own day.
    """
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def extract_page(html, url=""):
    """Extract the article from one page's HTML (bytes or str). Pure: no I/O."""
    raw = html if isinstance(html, bytes) else html.encode("utf-8", "replace")
    # Parsed once: trafilatura works on its own copy, our rules read this one.
    tree = load_html(raw)
    if tree is None:
        return Extraction()
    document = bare_extraction(
        tree,
        url=url or None,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_links=True,
    )
    if document is None or document.body is None:
        return Extraction()
    facts = read_page_facts(tree)
    title = plain_text(choose_title(facts, document.title or ""), 500)
    prune_link_lists(document.body)
    drop_link_teasers(document.body)
    strip_links(document.body)
    text = xmltotxt(document.body, include_formatting=False)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = add_split_pieces(tree, lines)
    lines = drop_other_articles(tree, lines, title)
    drop = linked_blocks(tree, lines) | headline_keys(facts) | {normal(url)}
    lines = clean_lines(lines, title, drop)
    lines = json_ld_stand_in(tree, lines, facts.article_body)
    text = "\n".join(lines)
    language = document.language or ""
    if not language:
        match = HTML_LANG.search(raw[:4096])
        language = match.group(1).decode("ascii").lower() if match else ""
    return Extraction(
        title=title,
        author=plain_text(document.author or "; ".join(facts.authors), 300),
        # The page's own JSON-LD datePublished beats dates guessed from the text.
        published_at=parse_date(facts.date_published) or parse_date(document.date),
        lead_image_url=safe_url(document.image or ""),
        description=plain_text(document.description or "", 1000),
        language=language[:12],
        text=text,
        body_html=clean_html(paragraphs_to_html(text)),
        tags=page_tags(document),
    )


def page_tags(document):
    """The page's own keywords and sections (meta tags, JSON-LD), as topic names."""
    names = []
    for value in (document.tags or []) + (document.categories or []):
        for name in str(value).split(","):
            name = plain_text(name, 60).strip(" #")
            if 2 <= len(name) <= 40 and name.lower() not in {n.lower() for n in names}:
                names.append(name)
    return names[:6]


def claim_article(article_id, now=None):
    """Take the extraction lease on one article; None if another worker holds it.

    A conditional UPDATE is the claim, so two workers cannot both win; the
    lease expires, so a worker killed mid-extraction does not block the row.
    """
    now = now or timezone.now()
    claimable = Q(state__in=[Article.State.PENDING, Article.State.FAILED]) | Q(
        state=Article.State.EXTRACTING, claimed_until__lt=now
    )
    won = (
        Article.objects.filter(claimable, pk=article_id, extraction_attempts__lt=MAX_EXTRACTION_ATTEMPTS)
        .update(
            state=Article.State.EXTRACTING,
            claimed_until=now + timedelta(seconds=settings.EXTRACTION_LEASE),
            extraction_attempts=F("extraction_attempts") + 1,
        )
    )
    if not won:
        return None
    # The columns extraction replaces are not read.
    return (
        Article.objects.select_related("source")
        .defer("body_html", "body_text", "terms", "search_vector")
        .get(pk=article_id)
    )


def extract_article(article_id, force=False):
    """Fetch and extract one article, falling back to the feed's own text.

    Returns the article in its final state, or None when it was not claimed.
    """
    if force:
        Article.objects.filter(pk=article_id).update(
            state=Article.State.PENDING, extraction_attempts=0, claimed_until=None,
            relating_attempts=0,
        )
    article = claim_article(article_id)
    if article is None:
        return None
    return finish_extraction(article, fetch_page(article))


def fetch_page(article):
    """(response, problem) for a claimed article's page: the network part of
    extract_article, which a batch runs in its fetching threads. It needs no
    database but the fetch slots' cache."""
    if article.source.use_feed_content:
        return None, "The source is set to use the feed's own content."
    try:
        etag, last_modified = conditional_headers(article)
        response = fetch(
            article.url, etag=etag, last_modified=last_modified,
            accept=HTML_ACCEPT, require_html=True, respect_robots=True,
        )
    except FetchError as exc:
        return None, f"Page fetch failed: {exc.reason}"
    except Exception as exc:  # A fetcher bug must not lose the article.
        logger.exception("Fetching %s failed", article.url)
        return None, f"Page fetch failed: {exc.__class__.__name__}"
    return response, ""


def finish_extraction(article, fetched):
    """Extract the fetched page (fetch_page's result) and save; returns the article."""
    response, problem = fetched
    extraction, page = Extraction(), {}
    if response is not None:
        try:
            digest = "" if response.not_modified else page_hash(response.content)
            if response.not_modified or digest == article.page_hash:
                keep_extraction(article)
                return article
            page = {"page_hash": digest, "page_validators": page_validators(response)}
            extraction = extraction_of(article, response, digest)
            if len(extraction.text.split()) < MIN_WORDS:
                problem = "The page yielded too little text."
        except Exception as exc:  # An extractor bug must not lose the article.
            logger.exception("Extracting %s failed", article.url)
            problem = f"Extraction failed: {exc.__class__.__name__}"
    apply_extraction(article, extraction, problem, page)
    return article


def extraction_of(article, response, digest):
    """The page's extraction, copied when another feed's article had the same bytes."""
    twin = extracted_twin(article, digest)
    if twin is None:
        return extract_page(response.content, response.url)
    return Extraction(
        title=twin.title,
        author=twin.author,
        published_at=twin.published_at,
        lead_image_url=twin.lead_image_url,
        description=twin.summary,
        language=twin.language,
        text=twin.body_text,
        body_html=twin.body_html,
        tags=list(twin.tags.values_list("name", flat=True)),
    )


def keep_extraction(article):
    """The page is what was extracted last time (304, or the same bytes): keep that."""
    article.state = Article.State.READY if article.word_count else Article.State.FAILED
    article.claimed_until = None
    article.save(update_fields=["state", "claimed_until"])


def apply_extraction(article, extraction, problem, page=None):
    now = timezone.now()
    if not problem:
        article.body_html = extraction.body_html
        article.body_text = extraction.text
        article.state_reason = ""
    else:
        fallback_html = article.feed_content_html
        fallback_text = plain_text(fallback_html) if fallback_html else article.summary
        if len(fallback_text.split()) > len(extraction.text.split()):
            article.body_html = fallback_html or paragraphs_to_html(fallback_text)
            article.body_text = fallback_text
            article.state_reason = f"{problem} Showing the feed's own text."
        elif fallback_text:
            article.body_html = extraction.body_html
            article.body_text = extraction.text
            article.state_reason = problem
        else:
            # A few words of page chrome are not an article: record the failure.
            article.body_html = article.body_text = ""
            article.state_reason = problem
    article.author = article.author or extraction.author
    article.lead_image_url = article.lead_image_url or extraction.lead_image_url
    article.language = extraction.language or article.language
    if not article.summary:
        article.summary = extraction.description or plain_text(article.body_text, 400)
    if extraction.published_at and article.published_at == article.discovered_at:
        # The feed gave no date; the page's own is better than first-seen.
        article.published_at = min(extraction.published_at, now)
    article.word_count = len(article.body_text.split())
    article.key_points = key_points(article.body_text)
    article.fingerprint = text_fingerprint(article.body_text)
    article.extracted_at = now
    article.claimed_until = None
    article.state = Article.State.READY if article.body_text else Article.State.FAILED
    if not article.body_text:
        article.state_reason = problem or "No text found on the page or in the feed."
    # Computed by the database in the same UPDATE as the text it indexes.
    article.search_vector = search_vector_of(article)
    for name, value in (page or {}).items():
        setattr(article, name, value)
    # One transaction, and only the columns extraction owns: an editor may
    # hide or feature the article meanwhile.
    with transaction.atomic():
        if extraction.tags and not article.tags.exists():
            add_tags([(article.pk, extraction.tags)])
        article.save(
            update_fields=[
                "body_html", "body_text", "state_reason", "author", "lead_image_url",
                "language", "summary", "published_at", "word_count", "key_points",
                "fingerprint", "extracted_at", "claimed_until", "state", "search_vector",
                *(page or {}),
            ]
        )
    del article.search_vector  # an expression until read back from the database
