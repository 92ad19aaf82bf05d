"""Never extract the same content twice with the same extractor.

A page is known by a hash of its bytes and of the extractor's own code, so
an upgrade of trafilatura or of our rules makes every page new again (that
is when an editor re-extracts). Re-extraction asks with the page's ETag and
Last-Modified; a 304 or the same hash keeps what is stored. The same page
reached from two feeds is extracted once and its result copied.
"""

import hashlib
from functools import cache
from importlib.metadata import version
from pathlib import Path

from ..models import Article

# What decides an extraction's result, relative to the articles/ folder.
EXTRACTOR_FILES = ("extract/*.py", "sanitize.py", "summary.py")


@cache  # on first use, not at start-up of every process that imports this
def extractor_id():
    digest = hashlib.sha256()
    for package in ("trafilatura", "nh3", "lxml"):
        digest.update(f"{package}={version(package)};".encode())
    here = Path(__file__).parent.parent
    for path in sorted(p for pattern in EXTRACTOR_FILES for p in here.glob(pattern)):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def page_hash(content: bytes):
    return hashlib.sha256(extractor_id().encode() + b"\0" + content).hexdigest()


def page_validators(response):
    """What to ask with next time: only valid while the extractor is the same."""
    return {
        "etag": response.etag,
        "last_modified": response.last_modified,
        "extractor": extractor_id(),
    }


def conditional_headers(article):
    """ETag and Last-Modified for a conditional GET, if the stored result is still ours."""
    stored = article.page_validators or {}
    if not article.page_hash or stored.get("extractor") != extractor_id():
        return "", ""
    return stored.get("etag", ""), stored.get("last_modified", "")


def extracted_twin(article, digest):
    """Another article extracted cleanly from the very same bytes, or None."""
    return (
        Article.objects.filter(page_hash=digest, state=Article.State.READY, state_reason="")
        .exclude(pk=article.pk)
        .only("title", "author", "published_at", "lead_image_url", "summary", "language",
              "body_text", "body_html", "page_terms")
        .first()
    )
