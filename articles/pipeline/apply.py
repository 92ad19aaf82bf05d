"""A fetched page's extraction, or the feed's own text, saved on the article."""

import logging

from django.db import transaction
from django.utils import timezone

from ..extract import Extraction, extract_page
from ..extract.tags import normalise_tags
from ..models import Article, Tag, tag_slug
from ..outages import OutageProblem, TransientProblem, is_outage, page_retry_at
from ..extract.terms import header_terms, merge_terms
from ..sanitize import clean_html, paragraphs_to_html, plain_text
from ..summary import key_points
from ..terms import without_hidden
from ..text import text_fingerprint
from .claim import postpone_article
from .reuse import extracted_twin, page_hash, page_validators

logger = logging.getLogger(__name__)
MIN_WORDS = 40
# The columns extraction owns: an editor may hide or feature the article meanwhile.
# Not claimed_until: the claim is held until the article is related too
# (release_claims), and its batch renews it meanwhile.
EXTRACTED_FIELDS = [
    "body_html", "body_text", "state_reason", "author", "lead_image_url", "language",
    "summary", "published_at", "word_count", "key_points", "fingerprint", "extracted_at",
    "state", "retry_at", "page_retries",
]


def finish_extraction(article, fetched):
    """Extract the fetched page (fetch_page's result) and save; returns the article."""
    response, problem = fetched
    if isinstance(problem, OutageProblem):
        logger.info("Extraction of article %s postponed: %s", article.pk, problem)
        return postpone_article(article)
    extraction, page = Extraction(), {}
    if response is not None:
        try:
            digest = "" if response.not_modified else page_hash(response.content)
            if response.not_modified or digest == article.page_hash:
                keep_extraction(article)
                return article
            page = {"page_hash": digest, "page_validators": page_validators(response)}
            extraction = extraction_of(article, response, digest)
            page["page_terms"] = merge_terms(
                extraction.terms, header_terms(response.headers.get("x-robots-tag"))
            )
            if len(extraction.text.split()) < MIN_WORDS:
                problem = "The page yielded too little text."
        except Exception as exc:  # An extractor bug must not lose the article.
            if is_outage(exc):
                raise  # the lease lets it be taken again
            logger.exception("Extracting %s failed", article.url)
            problem = f"Extraction failed: {exc.__class__.__name__}"
    apply_extraction(article, extraction, problem, page)
    return article


def extraction_of(article, response, digest):
    """The page's extraction, copied when another feed's article had the same bytes."""
    twin = extracted_twin(article, digest)
    if twin is None:
        return extract_page(response.content, response.url, charset=response.charset)
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
        terms=twin.page_terms,  # the same bytes state the same terms
    )


def keep_extraction(article):
    """The page is what was extracted last time (304, or the same bytes): keep that."""
    article.state = Article.State.READY if article.word_count else Article.State.FAILED
    article.claimed_until = article.retry_at = None
    article.save(update_fields=["state", "claimed_until", "retry_at"])


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
    # Passages the page marks data-nosnippet are never shown; the full text
    # still feeds relating and search.
    hidden = (page or {}).get("page_terms", {}).get("hidden", [])
    shown_text = without_hidden(article.body_text, hidden) if hidden else article.body_text
    if hidden and article.body_text == extraction.text:
        article.body_html = clean_html(paragraphs_to_html(shown_text))
    article.author = article.author or extraction.author
    article.lead_image_url = article.lead_image_url or extraction.lead_image_url
    article.language = extraction.language or article.language
    if not article.summary:
        article.summary = extraction.description or plain_text(shown_text, 400)
    if extraction.published_at and article.published_at == article.discovered_at:
        # The feed gave no date; the page's own is better than first-seen.
        article.published_at = min(extraction.published_at, now)
    article.word_count = len(article.body_text.split())
    article.key_points = key_points(shown_text, article.summary)
    article.fingerprint = text_fingerprint(article.body_text)
    article.extracted_at = now
    article.retry_at = None
    if isinstance(problem, TransientProblem) and article.body_text:
        # Shown with what there is; the page may answer later.
        article.retry_at = page_retry_at(now, article.page_retries)
        if article.retry_at is not None:
            article.page_retries += 1
            article.state_reason += " The page will be fetched again later."
    article.state = Article.State.READY if article.body_text else Article.State.FAILED
    if not article.body_text:
        article.state_reason = problem or "No text found on the page or in the feed."
    for name, value in (page or {}).items():
        setattr(article, name, value)
    with transaction.atomic():
        apply_page_tags(article, extraction.tags)
        article.save(update_fields=[*EXTRACTED_FIELDS, *(page or {})])


def apply_page_tags(article, names):
    """The page's topics added to the feed's; the source's category is never one.

    A feed often files every item under the category's own name: as a tag,
    its topic page would only repeat the category's.
    """
    category = article.source.category.name if article.source.category_id else ""
    names = normalise_tags(names, exclude=[category] if category else [])
    if names:
        Tag.objects.add_to_articles([(article.pk, names)])
    if category:  # one DELETE (remove() read the tag first)
        Article.tags.through.objects.filter(
            article_id=article.pk, tag__slug=tag_slug(category)
        ).delete()
