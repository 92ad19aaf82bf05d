"""Never extract the same content twice with the same extractor.

A page is known by a hash of its bytes and of the extractor's own code, so
an upgrade of trafilatura or of our rules makes every page new again (that
is when an editor re-extracts). Re-extraction asks with the page's ETag and
Last-Modified; a 304 or the same hash keeps what is stored. The same page
reached from two feeds is extracted once and its result copied.
"""

import hashlib
from importlib.metadata import version
from pathlib import Path

from .models import Article

EXTRACTOR_FILES = ("extract*.py", "sanitize.py", "summary.py")


def extractor_id():
    digest = hashlib.sha256()
    for package in ("trafilatura", "nh3", "lxml"):
        digest.update(f"{package}={version(package)};".encode())
    here = Path(__file__).parent
    for path in sorted(p for pattern in EXTRACTOR_FILES for p in here.glob(pattern)):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


EXTRACTOR_ID = extractor_id()


def page_hash(content: bytes):
    return hashlib.sha256(EXTRACTOR_ID.encode() + b"\0" + content).hexdigest()


def page_validators(response):
    """What to ask with next time: only valid while the extractor is the same."""
    return {
        "etag": response.headers.get("etag", "")[:500],
        "last_modified": response.headers.get("last-modified", "")[:100],
        "extractor": EXTRACTOR_ID,
    }


def conditional_headers(article):
    """ETag and Last-Modified for a conditional GET, if the stored result is still ours."""
    stored = article.page_validators or {}
    if not article.page_hash or stored.get("extractor") != EXTRACTOR_ID:
        return "", ""
    return stored.get("etag", ""), stored.get("last_modified", "")


def extracted_twin(article, digest):
    """Another article extracted cleanly from the very same bytes, or None."""
    return (
        Article.objects.filter(page_hash=digest, state=Article.State.READY, state_reason="")
        .exclude(pk=article.pk)
        .only("title", "author", "published_at", "lead_image_url", "summary", "language",
              "body_text", "body_html")
        .first()
    )
