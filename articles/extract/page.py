"""One page's HTML -> text, metadata and a sanitised body (trafilatura, nh3). Pure: no I/O."""

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from trafilatura import bare_extraction
from trafilatura.settings import Document
from trafilatura.utils import load_html

from ..encoding import decode_page
from ..sanitize import clean_html, paragraphs_to_html, plain_text, safe_url
from .clean import clean_lines, link_teasers, linked_blocks
from .facts import choose_title, headline_keys, normal, read_page_facts, squash
from .gaps import fill_gaps
from .scope import (
    TRAFILATURA_OPTIONS,
    add_split_pieces,
    drop_other_articles,
    fuller_text,
    render_text,
)
from .tags import read_page_tags
from .terms import read_page_terms

HTML_LANG = re.compile(rb"<html[^>]*?\slang\s*=\s*[\"']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)", re.I)


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
    terms: dict = field(default_factory=dict)  # the publisher's, as extract.terms reads them

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


def page_language(raw):
    """The language <html lang> names, lower-cased; "" without one."""
    match = HTML_LANG.search(raw[:4096])
    return match.group(1).decode("ascii").lower() if match else ""


def extract_page(html, url="", charset=""):
    """Extract the article from one page's HTML (bytes or str). Pure: no I/O.

    Bytes are read in the HTTP `charset`, else their <meta> one, when that
    decodes them cleanly; else as UTF-8, else in the charset detected.
    """
    text = html if isinstance(html, str) else decode_page(html, charset)
    raw = text.encode("utf-8", "replace")
    # Parsed once: trafilatura works on its own copy, our rules read this one.
    tree = load_html(raw)
    if tree is None:
        return Extraction()
    # No links: with them on, trafilatura 2.3.1 loses the text before a link
    # on some pages; link teasers are read on the page instead.
    document = bare_extraction(tree, url=url or None, with_metadata=True, **TRAFILATURA_OPTIONS)
    found = document is not None and document.body is not None
    text = fuller_text(tree, render_text(document.body) if found else "")
    # Without trafilatura's metadata, what the page says about itself still holds.
    document = document or Document()
    facts = read_page_facts(tree)
    title = plain_text(choose_title(facts, document.title or ""), 500)
    # Any run of spaces as one: a no-break space (&nbsp;) reads as a space.
    lines = [squash(line) for line in text.splitlines() if line.strip()]
    lines = add_split_pieces(tree, lines)
    lines = fill_gaps(tree, lines)
    lines = drop_other_articles(tree, lines, title)
    drop = linked_blocks(tree, lines) | link_teasers(tree) | headline_keys(facts) | {normal(url)}
    lines = clean_lines(lines, title, drop)
    text = "\n".join(lines)
    language = document.language or page_language(raw)
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
        tags=read_page_tags(tree),
        terms=read_page_terms(tree),
    )

