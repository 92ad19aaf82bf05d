"""Relating after extraction: one article, or a task's batch together."""

import logging

from django.db import connection

from ..page_cache import bump_content_version_for_new_article
from ..related import relate_article, relate_articles

logger = logging.getLogger(__name__)


def relate_now(article_id):
    relate_article(article_id)
    bump_content_version_for_new_article()


def relate_batch(article_ids, release=()):
    """Relate a task's articles together (articles/related/batch.py); returns the
    ids of `release` whose claims ended with the relating write.

    Should the batch fail, each article is related on its own, so that one
    article's error does not leave the others unrelated; the first error is
    then raised, for django-q2 to keep as the task's failure, and its article
    stays extracted for the sweeper. Inside a transaction (tests) the
    batch's error is raised at once: the transaction is broken.
    """
    if not article_ids:
        return set()
    try:
        related = relate_articles(article_ids, release=release)
    except Exception:
        if connection.in_atomic_block:
            raise
        logger.exception("Relating articles %s together failed; one at a time", article_ids)
        errors = []
        for article_id in article_ids:
            try:
                relate_article(article_id)
            except Exception as error:
                logger.exception("Relating article %s failed", article_id)
                errors.append(error)
        if errors:
            bump_content_version_for_new_article()
            raise errors[0]
        return set()
    bump_content_version_for_new_article()
    return set(related) & set(release)
