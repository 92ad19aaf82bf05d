"""The publisher's terms: how much of an article readers see, and why.

A page's own directives (kept on the article as page_terms by extraction)
always win over its source's display policy. Whatever is shown, the full
text still feeds relating, search ranking and stories.
"""

import functools
import sys
import unicodedata
from dataclasses import dataclass

from django.utils.text import Truncator, add_truncation_text

FULL, EXCERPT, HEADLINE = "full", "excerpt", "headline"


@dataclass(frozen=True)
class Policy:
    name: str  # FULL, EXCERPT or HEADLINE
    limit: int | None  # max-snippet: no shown text longer than this
    reason: str

    @property
    def shows_text(self):
        return self.name != HEADLINE

    @property
    def shows_body(self):
        return self.name == FULL and self.limit is None


def effective_policy(article):
    """The article's Policy: its page's directives, else its source's setting."""
    terms = article.page_terms or {}
    origin = " and ".join(terms.get("from", [])) or "the page"
    for directive in ("nosnippet", "noarchive"):
        if terms.get(directive):
            return Policy(HEADLINE, None, f"The page says {directive} ({origin}).")
    policy = article.source.display_policy
    label = dict(article.source.DisplayPolicy.choices)[policy].lower()
    reason = f"The source's display policy: {label}."
    limit = terms.get("max_snippet")
    if limit is not None and policy != HEADLINE:
        # A snippet of N characters allows no full text: an excerpt, cut.
        return Policy(EXCERPT, limit, f"The page says max-snippet:{limit} ({origin}); {reason}")
    return Policy(policy, None, reason)


def cut(text, limit):
    """Truncator(text).chars(limit), without its walk through the text a character
    at a time where no combining mark (which it counts as nothing) is near the cut:
    a page cuts up to 16 excerpts, at 43 us each that way."""
    if limit is None:
        return text
    text = unicodedata.normalize("NFC", text)
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    if limit > 1 and (head.isascii() or combining_marks().isdisjoint(set(head))):
        return add_truncation_text(text[: limit - 1])
    return Truncator(text).chars(limit)


@functools.cache
def combining_marks():
    return frozenset(chr(c) for c in range(sys.maxunicode + 1) if unicodedata.combining(chr(c)))


def shown_excerpt(article):
    """The card and meta excerpt: none under a headline policy, cut to max-snippet."""
    from .models import EXCERPT_LENGTH

    policy = effective_policy(article)
    if not policy.shows_text:
        return ""
    return cut(article.summary, min(EXCERPT_LENGTH, policy.limit or EXCERPT_LENGTH))


def shown_key_points(article, policy):
    if not policy.shows_text:
        return []
    return [cut(point, policy.limit) for point in article.key_points or []]


def without_hidden(text, hidden):
    """The text without the passages its page marked data-nosnippet; lines left empty go."""
    lines = []
    for line in text.splitlines():
        flat = " ".join(line.split())
        for passage in hidden:
            flat = flat.replace(passage, " ")
        if flat.strip():
            lines.append(" ".join(flat.split()))
    return "\n".join(lines)
