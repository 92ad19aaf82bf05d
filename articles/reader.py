"""What readers do: comments (with their rate limits) and saved articles."""

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Article, Comment, SavedArticle
from .page_cache import bump_content_version

# Comments a reader, and an address, may post in COMMENT_WINDOW.
USER_LIMIT = 5
IP_LIMIT = 20
COMMENT_WINDOW = timedelta(minutes=10)


class RateLimited(Exception):
    pass


def address_key(ip_address):
    """A keyed hash of the poster's address: enough to count, not to read it back."""
    digest = hmac.new(settings.SECRET_KEY.encode(), ip_address.encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


def post_comment(user, article, body, ip_address):
    """Counted in the comments table itself: exact, shared by every process, and
    working whether or not the cache is (django-ratelimit needs an atomic
    cache, which the embedded default's database cache is not)."""
    ip_hash = address_key(ip_address)
    since = timezone.now() - COMMENT_WINDOW
    recent = Comment.objects.filter(created_at__gte=since)
    with transaction.atomic():
        if (
            recent.filter(user=user).count() >= USER_LIMIT
            or recent.filter(ip_hash=ip_hash).count() >= IP_LIMIT
        ):
            raise RateLimited("You are commenting too fast; try again in a few minutes.")
        comment = Comment.objects.create(article=article, user=user, body=body, ip_hash=ip_hash)
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
