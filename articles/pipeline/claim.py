"""The extraction lease: one worker at a time holds an article."""

from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from ..models import MAX_EXTRACTION_ATTEMPTS, Article


def claim_article(article_id, now=None):
    """Take the extraction lease on one article; None if another worker holds it.

    A conditional UPDATE is the claim, so two workers cannot both win; the
    lease expires, so a worker killed mid-extraction does not block the row.
    """
    now = now or timezone.now()
    claimable = Q(state__in=[Article.State.PENDING, Article.State.FAILED]) | Q(
        state=Article.State.EXTRACTING, claimed_until__lt=now
    )
    won = Article.objects.filter(
        claimable, pk=article_id, extraction_attempts__lt=MAX_EXTRACTION_ATTEMPTS
    ).update(
        state=Article.State.EXTRACTING,
        claimed_until=now + timedelta(seconds=settings.EXTRACTION_LEASE),
        extraction_attempts=F("extraction_attempts") + 1,
    )
    if not won:
        return None
    # What extraction replaces is not read; the feed's text (the fallback)
    # and the page's validators (a conditional GET) are.
    return (
        Article.objects.select_related("source")
        .without_heavy_columns(keep=["feed_content_html", "page_validators"])
        .get(pk=article_id)
    )


def reset_for_extraction(article_id):
    """An editor's "extract again": new attempts, whatever the article's state."""
    Article.objects.filter(pk=article_id).update(
        state=Article.State.PENDING, extraction_attempts=0, claimed_until=None,
        relating_attempts=0,
    )
