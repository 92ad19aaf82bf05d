"""HTML and text cleaning for everything that came from outside (nh3)."""

import html
import re

import nh3
from django.utils.text import Truncator

# No <img>: a publisher's image in a body would have the reader's browser
# ask the publisher's host; the lead image is served from our origin instead.
ARTICLE_TAGS = {
    "p", "br", "hr", "a", "em", "strong", "b", "i", "u", "s", "sub", "sup", "small",
    "blockquote", "q", "cite", "code", "pre", "ul", "ol", "li", "dl", "dt", "dd",
    "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "table", "thead",
    "tbody", "tfoot", "tr", "th", "td", "caption", "abbr", "time", "mark",
}
ARTICLE_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
WHITESPACE = re.compile(r"\s+")


def clean_html(fragment):
    """Article-safe HTML: a fixed allowlist, http(s) URLs only, safe link rels."""
    if not fragment:
        return ""
    return nh3.clean(
        fragment,
        tags=ARTICLE_TAGS,
        attributes=ARTICLE_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def plain_text(fragment, max_length=None):
    """Text with every tag dropped and entities decoded; Django escapes it on output."""
    if not fragment:
        return ""
    text = html.unescape(nh3.clean(fragment, tags=set()))
    # Decoding may reveal entity-escaped markup; a second pass drops it too.
    text = html.unescape(nh3.clean(text, tags=set()))
    text = WHITESPACE.sub(" ", text).strip()
    return Truncator(text).chars(max_length) if max_length else text


def paragraphs_to_html(text):
    """Plain text with one paragraph a line, as trafilatura gives it, to <p> markup."""
    parts = [line.strip() for line in text.splitlines() if line.strip()]
    return "".join(f"<p>{html.escape(part)}</p>" for part in parts)


def safe_url(url):
    url = (url or "").strip()
    return url if re.match(r"^https?://", url, re.IGNORECASE) and len(url) <= 2000 else ""
