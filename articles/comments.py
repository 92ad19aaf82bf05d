"""Posting, deleting and moderating reader comments, and saved articles."""

import time

from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from .models import Article, Comment, SavedArticle
from .page_cache import bump_content_version

# (how many, per seconds) for each key a comment is counted under.
USER_LIMIT = (5, 600)
IP_LIMIT = (20, 600)


class RateLimited(Exception):
    pass


def over_limit(key, limit):
    """Fixed-window counter in the shared "locks" cache (Redis or the database)."""
    count, seconds = limit
    window = int(time.time() // seconds)
    cache = caches["locks"]
    full_key = f"rate:{key}:{window}"
    cache.add(full_key, 0, timeout=seconds)
    try:
        return cache.incr(full_key) > count
    except ValueError:  # expired between add and incr
        cache.set(full_key, 1, timeout=seconds)
        return False


def post_comment(user, article, body, ip_address):
    if over_limit(f"comment:user:{user.pk}", USER_LIMIT) or over_limit(
        f"comment:ip:{ip_address}", IP_LIMIT
    ):
        raise RateLimited("You are commenting too fast; try again in a few minutes.")
    with transaction.atomic():
        comment = Comment.objects.create(article=article, user=user, body=body)
        refresh_comment_counts([article.pk])
    return comment


def delete_comment(user, comment):
    """A reader deletes their own comment; returns whether it was theirs."""
    if comment.user_id != user.pk:
        return False
    with transaction.atomic():
        comment.delete()
        refresh_comment_counts([comment.article_id])
    return True


def refresh_comment_counts(article_ids):
    """Recount public comments; every page showing a count is then stale."""
    public = (
        Comment.objects.filter(article=OuterRef("pk"), is_public=True)
        .order_by()
        .values("article")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Article.objects.filter(pk__in=article_ids).update(
        comment_count=Coalesce(Subquery(public), 0)
    )
    bump_content_version()


def set_saved(user, article, saved):
    if saved:
        try:
            with transaction.atomic():
                SavedArticle.objects.create(user=user, article=article)
        except IntegrityError:
            pass  # saved already
    else:
        SavedArticle.objects.filter(user=user, article=article).delete()


def saved_ids(user, articles):
    if not user.is_authenticated:
        return set()
    ids = [article.pk for article in articles]
    return set(
        SavedArticle.objects.filter(user=user, article_id__in=ids).values_list("article_id", flat=True)
    )


